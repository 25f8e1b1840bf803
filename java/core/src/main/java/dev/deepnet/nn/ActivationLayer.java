package dev.deepnet.nn;

import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;

/** A nonlinearity applied element by element; any shape in, the same shape out. */
abstract sealed class ActivationLayer extends Layer permits Sigmoid, Relu, Tanh {

    private final Activation activation;

    ActivationLayer(Activation activation) {
        this.activation = activation;
    }

    @Override
    LayoutRule layoutRule() {
        return LayoutRule.KEEPS;
    }

    Activation activation() {
        return activation;
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
                ops.activationForward(activation, x[0], y);
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] != null) {
                    ops.activationBackward(activation, x[0], y, dy, dx[0]);
                }
            }
        };
    }
}
