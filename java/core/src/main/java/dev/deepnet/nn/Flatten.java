package dev.deepnet.nn;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;

/** (N, C, H, W) -> (N, C·H·W): feature maps become a vector for a dense layer. */
public final class Flatten extends Layer {

    @Override
    String kind() {
        return "flatten";
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        Shape x = single(inputs, 0, "(N, ...)");
        return Shape.of(x.dim(0), x.size() / x.dim(0));
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        // Row-major data is already flat: a copy of the bytes, no reordering.
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                y.segment().copyFrom(x[0].segment()); // same bytes, another shape: no view to allocate
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] != null) {
                    dx[0].segment().copyFrom(dy.segment());
                }
            }
        };
    }
}
