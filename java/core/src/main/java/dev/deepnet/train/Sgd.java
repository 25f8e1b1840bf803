package dev.deepnet.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Stochastic gradient descent with momentum and weight decay, as PyTorch defines it:
 * {@code g += decay * w; v = momentum * v + g; w -= rate * v}. With momentum 0 and no decay, the
 * lecture's plain {@code w -= rate * dL/dw}.
 */
public final class Sgd extends Optimizer {

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final double momentum;
    private final double weightDecay;

    public Sgd(double rate) {
        this(LearningRateSchedule.constant(rate), 0, 0);
    }

    public Sgd(LearningRateSchedule schedule, double momentum, double weightDecay) {
        super(schedule);
        if (!(momentum >= 0 && momentum < 1) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("momentum must be in [0, 1) and weight decay >= 0, got " + momentum + ", " + weightDecay);
        }
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    @Override
    float[][] newState(int size) {
        return new float[][] {momentum > 0 ? new float[size] : new float[0]};
    }

    @Override
    void update(MemorySegment w, MemorySegment g, float[][] state, double rate, long t) {
        float[] v = state[0];
        long n = w.byteSize() / Float.BYTES;
        for (int i = 0; i < n; i++) {
            float wi = w.getAtIndex(F, i);
            double grad = g.getAtIndex(F, i) + weightDecay * wi;
            if (momentum > 0) {
                v[i] = (float) (momentum * v[i] + grad);
                grad = v[i];
            }
            w.setAtIndex(F, i, (float) (wi - rate * grad));
        }
    }
}
