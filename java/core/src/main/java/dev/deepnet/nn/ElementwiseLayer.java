package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;

/** A function applied element by element: any shape in, the same shape out, in any layout its ops take. */
abstract sealed class ElementwiseLayer extends Layer permits ActivationLayer, Clip {

    /** y = f(x). */
    abstract void forward(Ops ops, Tensor x, Tensor y);

    /** dx = dy f'(x), with y = f(x) at hand. */
    abstract void backward(Ops ops, Tensor x, Tensor y, Tensor dy, Tensor dx);

    @Override
    LayoutRule layoutRule() {
        return LayoutRule.KEEPS;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        return single(inputs, 0, "any");
    }

    @Override
    public long flops(List<Shape> inputs) {
        return inputs.get(0).size();
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        outputShape(inputs);
        Ops ops = ctx.ops();
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                ElementwiseLayer.this.forward(ops, x[0], y);
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] != null) {
                    ElementwiseLayer.this.backward(ops, x[0], y, dy, dx[0]);
                }
            }
        };
    }
}
