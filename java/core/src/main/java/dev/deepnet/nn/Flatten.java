package dev.deepnet.nn;

import dev.deepnet.ops.Ops;

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

    /** Takes its input in any layout and writes the flat, row-major vector a dense layer reads. */
    @Override
    LayoutRule layoutRule() {
        return LayoutRule.OWN;
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        Ops ops = ctx.ops();
        boolean rowMajor = ctx.inputLayout(0) == null;
        return new Step() {
            private Tensor yFlat, yImage; // y seen as x's shape; made on the first call, the plan passes the same y every time
            private Tensor dyFlat, dyImage;

            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                if (rowMajor) {
                    y.segment().copyFrom(x[0].segment()); // row-major data is already flat: the same bytes
                } else {
                    if (yFlat != y) {
                        yImage = y.reshape(x[0].shape());
                        yFlat = y;
                    }
                    ops.reorder(x[0], yImage); // from the backend's layout straight into row-major order
                }
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] == null) {
                    return;
                }
                if (rowMajor) {
                    dx[0].segment().copyFrom(dy.segment());
                } else {
                    if (dyFlat != dy) {
                        dyImage = dy.reshape(dx[0].shape());
                        dyFlat = dy;
                    }
                    ops.reorder(dyImage, dx[0]);
                }
            }
        };
    }
}
