package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;
import java.util.SplittableRandom;

/** What a layer may use when it builds its {@link Step}: the plan's ops, memory and randomness. */
final class StepContext {

    private final Ops ops;
    private final Arena arena;
    private final Map<Parameter, Tensor> gradients;
    private final boolean training;
    private final SplittableRandom random;

    StepContext(Ops ops, Arena arena, Map<Parameter, Tensor> gradients, boolean training, SplittableRandom random) {
        this.ops = ops;
        this.arena = arena;
        this.gradients = gradients;
        this.training = training;
        this.random = random;
    }

    Ops ops() {
        return ops;
    }

    /** A zeroed buffer freed with the plan. */
    Tensor allocate(Shape shape) {
        return Tensor.allocate(arena, shape);
    }

    /** Whether the plan trains (backward passes and masks are needed). */
    boolean training() {
        return training;
    }

    /** Where the gradient of {@code p} goes; null when p is frozen or the plan only infers. */
    Tensor gradient(Parameter p) {
        return gradients.get(p);
    }

    /** This step's own random stream (dropout masks), split from the plan's seed. */
    SplittableRandom random() {
        return random;
    }
}
