package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;

/**
 * Softmax over the classes (dimension 1): probabilities that sum to 1. For training, prefer a
 * linear output with {@code SoftmaxCrossEntropy}, which fuses both stably; use this layer where
 * probabilities themselves are the output.
 */
public final class Softmax extends Layer {

    @Override
    String kind() {
        return "softmax";
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        Shape x = single(inputs, 0, "(N, classes, ...)");
        if (x.rank() < 2) {
            throw shapeError("expects (N, classes, ...) but got " + x);
        }
        return x;
    }

    @Override
    public long flops(List<Shape> inputs) {
        return inputs.get(0).size() * 4;
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        outputShape(inputs);
        Ops ops = ctx.ops();
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                ops.softmaxForward(x[0], y, false);
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] != null) {
                    ops.softmaxBackward(y, dy, dx[0], false);
                }
            }
        };
    }
}
