package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;

/**
 * Average pooling to a fixed size, PyTorch's {@code AdaptiveAvgPool2d}: (N, C, H, W) -> (N, C, oH, oW)
 * whatever H and W, output row i the mean of input rows floor(i H / oH) to ceil((i + 1) H / oH) - 1.
 * {@link #global()} (1 x 1) is global average pooling. Where the bins are equal windows (H and W
 * multiples of oH and oW) it runs as average pooling (window = stride = H / oH) in any layout;
 * else as plain loops on row-major tensors.
 */
public final class AdaptiveAvgPool2d extends Layer {

    private final int outputH;
    private final int outputW;

    public AdaptiveAvgPool2d(int outputH, int outputW) {
        if (outputH < 1 || outputW < 1) {
            throw new IllegalArgumentException("adaptive pooling needs an output of at least 1x1, got " + outputH + "x" + outputW);
        }
        this.outputH = outputH;
        this.outputW = outputW;
    }

    /** To 1 x 1: every channel's mean. */
    public static AdaptiveAvgPool2d global() {
        return new AdaptiveAvgPool2d(1, 1);
    }

    public int outputH() {
        return outputH;
    }

    public int outputW() {
        return outputW;
    }

    /** The average pooling these bins are for input x (N, C, H, W), or null when they are not equal windows. */
    public Pool2dSpec equalWindows(Shape x) {
        if (x.dim(2) % outputH != 0 || x.dim(3) % outputW != 0) {
            return null;
        }
        int kh = (int) (x.dim(2) / outputH);
        int kw = (int) (x.dim(3) / outputW);
        return new Pool2dSpec(kh, kw, kh, kw, 0, 0, 0, 0, true);
    }

    @Override
    String kind() {
        return "adaptivepool";
    }

    @Override
    LayoutRule layoutRule(List<Shape> inputs) {
        return equalWindows(inputs.get(0)) != null ? LayoutRule.KEEPS : LayoutRule.ROW_MAJOR;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        Shape x = single(inputs, 4, "(N, C, H, W)");
        return Shape.of(x.dim(0), x.dim(1), outputH, outputW);
    }

    @Override
    public long flops(List<Shape> inputs) {
        return inputs.get(0).size();
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        outputShape(inputs);
        Ops ops = ctx.ops();
        Pool2dSpec spec = equalWindows(inputs.get(0));
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                if (spec != null) {
                    ops.avgPool2dForward(spec, x[0], y);
                } else {
                    ops.adaptiveAvgPool2dForward(x[0], y);
                }
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] != null && spec != null) {
                    ops.avgPool2dBackward(spec, dy, dx[0]);
                } else if (dx[0] != null) {
                    ops.adaptiveAvgPool2dBackward(dy, dx[0]);
                }
            }
        };
    }
}
