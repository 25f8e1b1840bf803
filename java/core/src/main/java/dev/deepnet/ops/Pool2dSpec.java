package dev.deepnet.ops;

import dev.deepnet.tensor.Shape;

/**
 * Window, stride and padding of 2-D pooling. Input (N, C, H, W), output (N, C, oH, oW) with
 * {@code oH = (H + padTop + padBottom - kernelH) / strideH + 1}. Max pooling never picks a
 * padded position; average pooling divides by the whole window when {@code countPadding}
 * (PyTorch's default, {@code count_include_pad=True}), else by the real inputs it covers.
 */
public record Pool2dSpec(int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft, int padBottom,
        int padRight, boolean countPadding) {

    public Pool2dSpec {
        if (kernelH < 1 || kernelW < 1) {
            throw new IllegalArgumentException("pooling window must be >= 1, got " + kernelH + "x" + kernelW);
        }
        if (strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException("pooling strides must be >= 1, got " + strideH + "x" + strideW);
        }
        if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
            throw new IllegalArgumentException("pooling padding must be >= 0");
        }
        if (padTop >= kernelH || padBottom >= kernelH || padLeft >= kernelW || padRight >= kernelW) {
            throw new IllegalArgumentException("pooling padding must be smaller than the window " + kernelH + "x" + kernelW
                    + ", or a window could cover only padding");
        }
    }

    /** A square window with the given stride and symmetric padding; averages count padding. */
    public static Pool2dSpec of(int kernel, int stride, int padding) {
        return new Pool2dSpec(kernel, kernel, stride, stride, padding, padding, padding, padding, true);
    }

    public Pool2dSpec withCountPadding(boolean count) {
        return new Pool2dSpec(kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, count);
    }

    /** The output shape for input x (N, C, H, W); checks that the window fits. */
    public Shape outputShape(Shape x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException("pooling input must be (N, C, H, W), got " + x);
        }
        long ph = x.dim(2) + padTop + padBottom;
        long pw = x.dim(3) + padLeft + padRight;
        if (kernelH > ph || kernelW > pw) {
            throw new IllegalArgumentException("pooling window " + kernelH + "x" + kernelW + " is larger than the padded input "
                    + ph + "x" + pw + " of " + x);
        }
        return Shape.of(x.dim(0), x.dim(1), (ph - kernelH) / strideH + 1, (pw - kernelW) / strideW + 1);
    }
}
