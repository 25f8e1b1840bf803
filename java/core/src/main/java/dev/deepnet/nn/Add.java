package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/** Joins two or more branches of equal shape by summing them; the gradient flows unchanged into each. */
public final class Add extends Layer {

    @Override
    String kind() {
        return "add";
    }

    @Override
    int arity() {
        return -1;
    }

    @Override
    LayoutRule layoutRule() {
        return LayoutRule.KEEPS;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        if (inputs.size() < 2) {
            throw shapeError("joins two or more inputs, got " + inputs.size());
        }
        for (Shape s : inputs) {
            if (!s.equals(inputs.get(0))) {
                throw shapeError("inputs must have equal shapes, got " + inputs);
            }
        }
        return inputs.get(0);
    }

    @Override
    public long flops(List<Shape> inputs) {
        return inputs.get(0).size() * (inputs.size() - 1);
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        outputShape(inputs);
        Ops ops = ctx.ops();
        dev.deepnet.ops.Activation fused = ctx.fusedActivation(); // LINEAR unless an inference plan fused the next layer in
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                if (fused != dev.deepnet.ops.Activation.LINEAR) {
                    ops.add(x[0], x[1], y, fused); // an inference plan fused the activation after it in
                } else {
                    ops.sum(Arrays.asList(x), y);
                }
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                for (Tensor d : dx) {
                    if (d != null) {
                        d.segment().copyFrom(dy.segment()); // same shape and layout (the plan's rule): the same bytes
                    }
                }
            }
        };
    }
}
