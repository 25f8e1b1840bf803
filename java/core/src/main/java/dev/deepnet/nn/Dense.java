package dev.deepnet.nn;

import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A fully connected layer of neurons. Neuron j computes the dot product of its weights with the
 * inputs, minus a threshold, through a nonlinearity: {@code y_j = f(sum_i w_ji x_i - T_j)}. The
 * threshold is stored as a bias {@code b = -T}, so {@code y = f(x W^T + b)}: weight (out, in),
 * bias (out), input (N, in), output (N, out) — PyTorch's layout.
 */
public final class Dense extends Layer {

    private final int in;
    private final int out;
    private final Activation activation;
    private final Parameter weight; // (out, in)
    private final Parameter bias; // (out)

    /** Linear neurons (no squashing). */
    public Dense(int in, int out) {
        this(in, out, Activation.LINEAR);
    }

    public Dense(int in, int out, Activation activation) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("a dense layer needs at least one input and one output, got " + in + " -> " + out);
        }
        this.in = in;
        this.out = out;
        this.activation = activation;
        this.weight = new Parameter("weight", Shape.of(out, in));
        this.bias = new Parameter("bias", Shape.of(out));
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public Activation activation() {
        return activation;
    }

    /** Inputs per neuron. */
    public int inputFeatures() {
        return in;
    }

    /** Number of neurons. */
    public int outputFeatures() {
        return out;
    }

    @Override
    String kind() {
        return "dense";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        Shape x = single(inputs, 0, "(N, " + in + ")");
        if (x.rank() != 2 || x.dim(1) != in) {
            throw shapeError("expects input (N, " + in + ") but got " + x + (x.rank() > 2 ? "; add a Flatten before it" : ""));
        }
        return Shape.of(x.dim(0), out);
    }

    @Override
    public long flops(List<Shape> inputs) {
        return 2L * inputs.get(0).dim(0) * in * out;
    }

    @Override
    void initialize(SplittableRandom random) {
        if (!weight.isInitialized()) {
            (activation == Activation.RELU ? Init.HE : Init.XAVIER).fill(weight.value(), in, out, random);
            weight.markInitialized();
        }
        if (!bias.isInitialized()) {
            Init.ZEROS.fill(bias.value(), in, out, random);
            bias.markInitialized();
        }
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        Shape ys = outputShape(inputs);
        Ops ops = ctx.ops();
        boolean squash = activation != Activation.LINEAR;
        if (!ctx.training()) { // inference: nothing reads the pre-activation, so the activation is fused into the product
            return new Step() {
                @Override
                public void forward(Tensor[] x, Tensor y, boolean training) {
                    ops.linearForward(x[0], weight.data(), bias.data(), y, activation);
                }

                @Override
                public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                    throw new IllegalStateException("an inference step has no backward pass");
                }
            };
        }
        Tensor z = squash ? ctx.allocate(ys) : null; // (N, out) before the nonlinearity
        Tensor dz = squash && ctx.training() ? ctx.allocate(ys) : null;
        Tensor dW = ctx.weightGradientTarget(weight, bias);
        Tensor db = ctx.gradient(bias);
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                if (squash) {
                    ops.linearForward(x[0], weight.data(), bias.data(), z);
                    ops.activationForward(activation, z, y);
                } else {
                    ops.linearForward(x[0], weight.data(), bias.data(), y);
                }
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                Tensor g = dy;
                if (squash) {
                    ops.activationBackward(activation, z, y, dy, dz);
                    g = dz;
                }
                if (dx[0] != null) {
                    ops.linearBackwardData(g, weight.data(), dx[0]);
                }
                if (dW != null) {
                    ops.linearBackwardWeights(x[0], g, dW, db);
                }
            }
        };
    }
}
