package dev.deepnet.nn;

import dev.deepnet.ops.BatchNormSpec;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Batch normalisation of images, PyTorch's {@code BatchNorm2d}: (N, C, H, W) -> the same, each
 * channel normalised then scaled by {@code weight} (gamma) and shifted by {@code bias} (beta). A
 * training plan's training pass normalises with the batch's statistics and moves the running ones
 * ({@code running_mean}, {@code running_var}: {@link #buffers()}, saved with the model, never
 * trained) towards them by the momentum; inference, and input-gradient plans, use the running ones.
 */
public final class BatchNorm2d extends Layer {

    private final int channels;
    private final BatchNormSpec spec;
    private final Parameter weight; // gamma (C)
    private final Parameter bias; // beta (C)
    private final Parameter runningMean; // (C)
    private final Parameter runningVariance; // (C), unbiased

    /** PyTorch's defaults: epsilon 1e-5, momentum 0.1. */
    public BatchNorm2d(int channels) {
        this(channels, BatchNormSpec.defaults());
    }

    public BatchNorm2d(int channels, BatchNormSpec spec) {
        if (channels < 1) {
            throw new IllegalArgumentException("batch normalisation needs channels >= 1, got " + channels);
        }
        this.channels = channels;
        this.spec = spec;
        this.weight = new Parameter("weight", Shape.of(channels));
        this.bias = new Parameter("bias", Shape.of(channels));
        this.runningMean = new Parameter("running_mean", Shape.of(channels));
        this.runningVariance = new Parameter("running_var", Shape.of(channels));
        runningMean.setFrozen(true);
        runningVariance.setFrozen(true);
    }

    public int channels() {
        return channels;
    }

    public BatchNormSpec spec() {
        return spec;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public Parameter runningMean() {
        return runningMean;
    }

    public Parameter runningVariance() {
        return runningVariance;
    }

    @Override
    String kind() {
        return "batchnorm";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public List<Parameter> buffers() {
        return List.of(runningMean, runningVariance);
    }

    @Override
    LayoutRule layoutRule() {
        return LayoutRule.KEEPS;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        Shape x = single(inputs, 4, "(N, " + channels + ", H, W)");
        if (x.dim(1) != channels) {
            throw shapeError("expects input (N, " + channels + ", H, W) but got " + x);
        }
        return x;
    }

    @Override
    public long flops(List<Shape> inputs) {
        return 2 * outputShape(inputs).size(); // a multiply-add per element, the statistics folded in
    }

    @Override
    void initialize(SplittableRandom random) {
        for (Parameter p : List.of(weight, runningVariance)) {
            if (!p.isInitialized()) {
                p.value().fill(1f);
                p.markInitialized();
            }
        }
        for (Parameter p : List.of(bias, runningMean)) {
            if (!p.isInitialized()) {
                p.value().fill(0f);
                p.markInitialized();
            }
        }
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        Shape x = outputShape(inputs);
        Ops ops = ctx.ops();
        Shape c = Shape.of(channels);
        boolean batchStatistics = ctx.batchStatistics();
        Tensor mean = batchStatistics ? ctx.allocate(c) : null; // the last training pass's batch statistics, for backward
        Tensor variance = batchStatistics ? ctx.allocate(c) : null;
        // The op computes dgamma and dbeta together, and dx with them: scratch for whichever is not wanted.
        Tensor dGamma = ctx.gradient(weight);
        Tensor dBeta = ctx.gradient(bias);
        if ((dGamma == null) != (dBeta == null)) {
            dGamma = dGamma != null ? dGamma : ctx.allocate(c);
            dBeta = dBeta != null ? dBeta : ctx.allocate(c);
        }
        Tensor dxScratch = ctx.training() && dGamma != null && !ctx.inputGradientNeeded(0) ? ctx.allocate(x, ctx.inputLayout(0)) : null;
        Tensor dg = dGamma;
        Tensor db = dBeta;
        return new Step() {
            @Override
            public void forward(Tensor[] in, Tensor y, boolean training) {
                if (training && batchStatistics) {
                    ops.batchNormTrainingForward(spec, in[0], weight.value(), bias.value(), y, mean, variance, runningMean.value(),
                            runningVariance.value());
                } else {
                    ops.batchNormInferenceForward(spec, in[0], weight.value(), bias.value(), runningMean.value(),
                            runningVariance.value(), y);
                }
            }

            @Override
            public void backward(Tensor[] in, Tensor y, Tensor dy, Tensor[] dx) {
                // A plan's backward follows a training pass: the batch's statistics in a training plan, else the running ones.
                ops.batchNormBackward(spec, batchStatistics, in[0], dy, weight.value(), batchStatistics ? mean : runningMean.value(),
                        batchStatistics ? variance : runningVariance.value(), dx[0] != null ? dx[0] : dxScratch, dg, db);
            }
        };
    }
}
