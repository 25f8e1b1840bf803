package dev.deepnet.nn;

import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;

/**
 * 2-D convolution with many kernels: input (N, C, H, W), weight (O, C / groups, kH, kW), bias (O),
 * output (N, O, oH, oW) — PyTorch's layout. Each of the O kernels slides over the image and
 * makes one feature map. With {@link Conv2dSpec#groups() groups} g, each kernel reads only its
 * group's C / g channels (the paper's AlexNet: two groups, one per GPU; depthwise: g = C).
 */
public final class Conv2d extends Layer {

    private final int inChannels;
    private final int outChannels;
    private final Conv2dSpec spec;
    private final Parameter weight; // (O, C / groups, kH, kW)
    private final Parameter bias; // (O)

    /** Square kernels with the given stride and symmetric padding. */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding) {
        this(inChannels, outChannels, kernel, kernel, Conv2dSpec.of(stride, padding));
    }

    public Conv2d(int inChannels, int outChannels, int kernelH, int kernelW, Conv2dSpec spec) {
        if (inChannels < 1 || outChannels < 1 || kernelH < 1 || kernelW < 1) {
            throw new IllegalArgumentException("a convolution needs positive channels and kernel sizes, got " + inChannels + " -> "
                    + outChannels + " with " + kernelH + "x" + kernelW + " kernels");
        }
        int groups = spec.groups();
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("a convolution in " + groups + " groups needs channels that are multiples of "
                    + groups + ", got " + inChannels + " -> " + outChannels);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.spec = spec;
        this.weight = new Parameter("weight", Shape.of(outChannels, inChannels / groups, kernelH, kernelW));
        this.bias = new Parameter("bias", Shape.of(outChannels));
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public Conv2dSpec spec() {
        return spec;
    }

    public int inChannels() {
        return inChannels;
    }

    @Override
    String kind() {
        return "conv";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        Shape x = single(inputs, 4, "(N, " + inChannels + ", H, W)");
        if (x.dim(1) != inChannels) {
            throw shapeError("expects input (N, " + inChannels + ", H, W) but got " + x);
        }
        try {
            return spec.outputShape(x, weight.shape());
        } catch (IllegalArgumentException e) {
            throw shapeError(e.getMessage());
        }
    }

    @Override
    public long flops(List<Shape> inputs) {
        Shape y = outputShape(inputs);
        Shape w = weight.shape();
        return 2L * y.size() * w.dim(1) * w.dim(2) * w.dim(3);
    }

    @Override
    LayoutRule layoutRule() {
        return LayoutRule.OWN;
    }

    /** Whatever layout the backend's convolution writes fastest (oneDNN: often channels blocked by 16). */
    @Override
    dev.deepnet.tensor.Layout outputLayout(Ops ops, List<Shape> inputs) {
        return ops.conv2dOutputLayout(spec, inputs.get(0), weight.shape(), true);
    }

    @Override
    void initialize(SplittableRandom random) {
        Shape w = weight.shape();
        long receptive = w.dim(2) * w.dim(3);
        if (!weight.isInitialized()) {
            Init.HE.fill(weight.value(), w.dim(1) * receptive, w.dim(0) * receptive, random);
            weight.markInitialized();
        }
        if (!bias.isInitialized()) {
            Init.ZEROS.fill(bias.value(), 0, 0, random);
            bias.markInitialized();
        }
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        outputShape(inputs);
        Ops ops = ctx.ops();
        Tensor dW = ctx.weightGradientTarget(weight, bias);
        Tensor db = ctx.gradient(bias);
        dev.deepnet.ops.Activation fused = ctx.fusedActivation(); // LINEAR unless an inference plan fused the next layer in
        // An inference plan keeps the weights packed in the layout the primitive reads (oneDNN: blocked),
        // packed again only when they change, instead of converting them at every call.
        dev.deepnet.tensor.Layout packing = ctx.training() ? null
                : ops.conv2dWeightsLayout(spec, inputs.get(0), weight.shape(), true, ctx.outputLayout(), fused);
        Tensor packed = packing == null ? null : ctx.allocate(weight.shape(), packing);
        return new Step() {
            private long packedVersion = -1;

            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                Tensor w = weight.data();
                if (packed != null) {
                    long version = weight.version();
                    if (version != packedVersion) {
                        ops.reorder(w, packed);
                        packedVersion = version;
                    }
                    w = packed;
                }
                ops.conv2dForward(spec, x[0], w, bias.data(), y, fused);
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] != null) {
                    ops.conv2dBackwardData(spec, dy, weight.data(), dx[0]);
                }
                if (dW != null) {
                    ops.conv2dBackwardWeights(spec, x[0], dy, dW, db);
                }
            }
        };
    }
}
