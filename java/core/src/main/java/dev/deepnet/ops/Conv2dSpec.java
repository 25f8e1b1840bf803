package dev.deepnet.ops;

import dev.deepnet.tensor.Shape;

/**
 * Stride, padding, dilation and groups of a 2-D convolution. Dilation is PyTorch's: 1 is a dense
 * kernel, 2 skips every other input. Input (N, C, H, W), weights (O, C / groups, kH, kW), output
 * (N, O, oH, oW) with {@code oH = (H + padTop + padBottom - ((kH - 1) * dilationH + 1)) / strideH + 1}.
 * With {@code groups} g, the channels split into g groups (C / g inputs and O / g outputs each)
 * that are convolved apart: output channel o reads input channels (o / (O / g)) * C / g onwards,
 * as in PyTorch. Groups = C is a depthwise convolution.
 */
public record Conv2dSpec(int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight,
        int dilationH, int dilationW, int groups) {

    public Conv2dSpec {
        if (strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException("convolution strides must be >= 1, got " + strideH + "x" + strideW);
        }
        if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
            throw new IllegalArgumentException("convolution padding must be >= 0, got " + padTop + "," + padLeft + ","
                    + padBottom + "," + padRight);
        }
        if (dilationH < 1 || dilationW < 1) {
            throw new IllegalArgumentException("convolution dilation must be >= 1 (1 = dense), got " + dilationH + "x" + dilationW);
        }
        if (groups < 1) {
            throw new IllegalArgumentException("convolution groups must be >= 1, got " + groups);
        }
    }

    /** One group: every output channel reads every input channel. */
    public Conv2dSpec(int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW) {
        this(strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, 1);
    }

    /** Square stride and symmetric padding, dense kernel. */
    public static Conv2dSpec of(int stride, int padding) {
        return new Conv2dSpec(stride, stride, padding, padding, padding, padding, 1, 1);
    }

    public Conv2dSpec withDilation(int dilation) {
        return new Conv2dSpec(strideH, strideW, padTop, padLeft, padBottom, padRight, dilation, dilation, groups);
    }

    public Conv2dSpec withGroups(int groups) {
        return new Conv2dSpec(strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups);
    }

    /** The output shape for input x (N, C, H, W) and weights w (O, C / groups, kH, kW); checks that they fit. */
    public Shape outputShape(Shape x, Shape w) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException("convolution input must be (N, C, H, W), got " + x);
        }
        if (w.rank() != 4) {
            throw new IllegalArgumentException("convolution weights must be (O, C" + (groups == 1 ? "" : " / groups") + ", kH, kW), got " + w);
        }
        if (w.dim(1) * groups != x.dim(1)) {
            throw new IllegalArgumentException("convolution weights " + w + " expect " + w.dim(1) * groups + " input channels"
                    + (groups == 1 ? "" : " (" + w.dim(1) + " in each of " + groups + " groups)") + " but input " + x + " has " + x.dim(1));
        }
        if (w.dim(0) % groups != 0) {
            throw new IllegalArgumentException("convolution weights " + w + " have " + w.dim(0) + " output channels, not a multiple of "
                    + groups + " groups");
        }
        long oh = outputSize("height", x.dim(2), w.dim(2), strideH, padTop, padBottom, dilationH, x, w);
        long ow = outputSize("width", x.dim(3), w.dim(3), strideW, padLeft, padRight, dilationW, x, w);
        return Shape.of(x.dim(0), w.dim(0), oh, ow);
    }

    private static long outputSize(String what, long in, long kernel, int stride, int padBefore, int padAfter, int dilation,
            Shape x, Shape w) {
        long span = (kernel - 1) * dilation + 1;
        long padded = in + padBefore + padAfter;
        if (span > padded) {
            throw new IllegalArgumentException("convolution kernel " + w + " spans " + span + " in " + what
                    + ", more than the padded input " + what + " " + padded + " of " + x);
        }
        return (padded - span) / stride + 1;
    }
}
