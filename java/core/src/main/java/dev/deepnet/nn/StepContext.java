package dev.deepnet.nn;

import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Layout;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.tensor.TensorArena;
import java.util.Map;
import java.util.SplittableRandom;

/** What a layer may use when it builds its {@link Step}: the plan's ops, memory and randomness. */
final class StepContext {

    private final Ops ops;
    private final TensorArena arena;
    private final Map<Parameter, Tensor> gradients;
    private final boolean training;
    private final boolean dropout;
    private final SplittableRandom random;
    private final Layout[] inputLayouts;
    private final boolean[] inputGradients;
    private final Activation fused;
    private final Layout outputLayout;

    StepContext(Ops ops, TensorArena arena, Map<Parameter, Tensor> gradients, boolean training, boolean dropout, SplittableRandom random,
            Layout[] inputLayouts, Layout outputLayout, boolean[] inputGradients, Activation fused) {
        this.inputLayouts = inputLayouts;
        this.outputLayout = outputLayout;
        this.inputGradients = inputGradients;
        this.fused = fused;
        this.ops = ops;
        this.arena = arena;
        this.gradients = gradients;
        this.training = training;
        this.dropout = dropout;
        this.random = random;
    }

    Ops ops() {
        return ops;
    }

    /**
     * The layout input {@code i} arrives in (null: row-major): what the plan decided by the
     * layer's {@link Layer.LayoutRule}. Workspaces are made for it.
     */
    Layout inputLayout(int i) {
        return inputLayouts[i];
    }

    /**
     * The activation of the layer after this one, which the plan fused into this step (an
     * inference plan, where a convolution's only reader is its activation): the step applies it
     * as it writes its output, and the activation's step does not run. LINEAR when nothing is fused.
     */
    Activation fusedActivation() {
        return fused;
    }

    /** The layout the plan keeps this step's output in (null: row-major). */
    Layout outputLayout() {
        return outputLayout;
    }

    /**
     * Whether backward is given a gradient to write for input {@code i} (else its dIn[i] is null in
     * every pass): what a step may size its scratch by.
     */
    boolean inputGradientNeeded(int i) {
        return inputGradients[i];
    }

    /** A zeroed buffer freed with the plan. */
    Tensor allocate(Shape shape) {
        return arena.allocate(shape);
    }

    /** A zeroed buffer in a backend layout (null: row-major), freed with the plan. */
    Tensor allocate(Shape shape, Layout layout) {
        return arena.allocate(shape, layout);
    }

    /** Whether the plan runs backward (workspaces and backward scratch are needed). */
    boolean training() {
        return training;
    }

    /**
     * Whether dropout draws masks in a training forward pass: true in training plans; false in
     * input-gradient plans, which differentiate the net as it runs at inference.
     */
    boolean dropout() {
        return dropout;
    }

    /**
     * Whether batch normalisation uses the batch's statistics in a training forward pass (and
     * updates its running ones): in training plans, as dropout draws masks; an input-gradient plan
     * differentiates the net at inference, with the running statistics.
     */
    boolean batchStatistics() {
        return dropout;
    }

    /** Where the gradient of {@code p} goes; null when p is frozen or the plan only infers. */
    Tensor gradient(Parameter p) {
        return gradients.get(p);
    }

    /**
     * Where a layer's backward-weights op writes the weight gradient: the weight's gradient, or,
     * when the weight is frozen but the bias is not, a scratch buffer (the op computes both at
     * once); null when neither needs a gradient.
     */
    Tensor weightGradientTarget(Parameter weight, Parameter bias) {
        Tensor dW = gradient(weight);
        if (dW != null || gradient(bias) == null) {
            return dW;
        }
        return allocate(weight.shape());
    }

    /** This step's own random stream (dropout masks), split from the plan's seed. */
    SplittableRandom random() {
        return random;
    }
}
