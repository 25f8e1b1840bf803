package dev.deepnet.train;

import dev.deepnet.nn.Parameter;
import dev.deepnet.nn.Plan;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters in place from the gradients a {@link Plan}'s backward pass left. Frozen
 * parameters have no gradient and are never touched. State (momentum, moments) is kept per
 * parameter, allocated at the first step.
 */
public abstract class Optimizer {

    private final LearningRateSchedule schedule;
    private final Map<Parameter, float[][]> state = new IdentityHashMap<>();
    private long steps;

    protected Optimizer(LearningRateSchedule schedule) {
        this.schedule = schedule;
    }

    /** One update of every trainable parameter of {@code plan}. */
    public final void step(Plan plan) {
        double rate = schedule.rate(steps);
        steps++;
        List<Parameter> trainable = plan.trainableParameters();
        for (int i = 0; i < trainable.size(); i++) { // indexed, get-then-put: a step allocates nothing
            Parameter p = trainable.get(i);
            if (p.isFrozen()) {
                continue;
            }
            Tensor g = plan.gradient(p);
            float[][] s = state.get(p);
            if (s == null) {
                s = newState(Math.toIntExact(p.shape().size()));
                state.put(p, s);
            }
            update(p.value().segment(), g.segment(), s, rate, steps);
        }
    }

    /** Optimizer steps taken so far. */
    public final long steps() {
        return steps;
    }

    /** The learning rate the next step will use. */
    public final double currentRate() {
        return schedule.rate(steps);
    }

    /** Per-parameter state arrays, each as long as the parameter. */
    abstract float[][] newState(int size);

    /** Updates weights w from gradients g; {@code t} is the 1-based step number. */
    abstract void update(MemorySegment w, MemorySegment g, float[][] state, double rate, long t);
}
