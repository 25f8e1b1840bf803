package dev.deepnet.ops;

import dev.deepnet.tensor.Shape;

/**
 * Window, stride and padding of 2-D pooling. Input (N, C, H, W), output (N, C, oH, oW) with
 * {@code oH = (H + padTop + padBottom - kernelH) / strideH + 1}, rounded down, or with
 * {@code ceilMode} up (PyTorch's and ONNX's {@code ceil_mode}: a last window may overhang the end,
 * unless it would start in the end padding). Max pooling never picks a padded or overhanging
 * position; average pooling divides by the window's positions inside the padded input when
 * {@code countPadding} (PyTorch's default, {@code count_include_pad=True}), else by the real
 * inputs it covers. Ceil mode with counted padding is taken only without padding (where it
 * divides by the real inputs, as PyTorch does): oneDNN counts no such mixed divisor.
 */
public record Pool2dSpec(int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft, int padBottom,
        int padRight, boolean countPadding, boolean ceilMode) {

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
        if (ceilMode && countPadding && (padTop | padLeft | padBottom | padRight) != 0) {
            throw new IllegalArgumentException("ceil mode with counted padding is supported without padding only (a window "
                    + "overhanging the padding would count the padding but not the overhang)");
        }
    }

    /** Rounding the output size down. */
    public Pool2dSpec(int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight,
            boolean countPadding) {
        this(kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, countPadding, false);
    }

    /** A square window with the given stride and symmetric padding; averages count padding. */
    public static Pool2dSpec of(int kernel, int stride, int padding) {
        return new Pool2dSpec(kernel, kernel, stride, stride, padding, padding, padding, padding, true);
    }

    public Pool2dSpec withCountPadding(boolean count) {
        return new Pool2dSpec(kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, count, ceilMode);
    }

    public Pool2dSpec withCeilMode(boolean ceil) {
        return new Pool2dSpec(kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, countPadding, ceil);
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
        return Shape.of(x.dim(0), x.dim(1), size(x.dim(2), kernelH, strideH, padTop, padBottom),
                size(x.dim(3), kernelW, strideW, padLeft, padRight));
    }

    private long size(long in, int kernel, int stride, int before, int after) {
        long padded = in + before + after;
        long floor = (padded - kernel) / stride + 1;
        if (!ceilMode) {
            return floor;
        }
        long ceil = (padded - kernel + stride - 1) / stride + 1;
        return ceil > floor && (ceil - 1) * stride >= in + before ? ceil - 1 : ceil; // no window starts in the end padding
    }

    /** How far ceil mode's last window overhangs the bottom padding of x: 0 without ceil mode. */
    public int overhangBottom(Shape x) {
        return overhang(x.dim(2), kernelH, strideH, padTop, padBottom);
    }

    /** How far ceil mode's last window overhangs the right padding of x: 0 without ceil mode. */
    public int overhangRight(Shape x) {
        return overhang(x.dim(3), kernelW, strideW, padLeft, padRight);
    }

    private int overhang(long in, int kernel, int stride, int before, int after) {
        long out = size(in, kernel, stride, before, after);
        return (int) Math.max(0, (out - 1) * stride + kernel - (in + before + after));
    }
}
