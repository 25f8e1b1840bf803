package dev.deepnet.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Adam (Kingma and Ba, 2015) with L2 weight decay added to the gradient:
 * {@code m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= rate * m^ / (sqrt(v^) + eps)} with
 * bias-corrected {@code m^ = m / (1 - b1^t)}, {@code v^ = v / (1 - b2^t)}.
 */
public final class Adam extends Optimizer {

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;

    /** rate 1e-3, betas 0.9 / 0.999, epsilon 1e-8, no decay: the paper's defaults. */
    public Adam(double rate) {
        this(LearningRateSchedule.constant(rate), 0.9, 0.999, 1e-8, 0);
    }

    public Adam(LearningRateSchedule schedule, double beta1, double beta2, double epsilon, double weightDecay) {
        super(schedule);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(epsilon > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("Adam needs betas in [0, 1), epsilon > 0 and weight decay >= 0");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
    }

    @Override
    float[][] newState(int size) {
        return new float[][] {new float[size], new float[size]};
    }

    @Override
    void update(MemorySegment w, MemorySegment g, float[][] state, double rate, long t) {
        float[] m = state[0];
        float[] v = state[1];
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        long n = w.byteSize() / Float.BYTES;
        for (int i = 0; i < n; i++) {
            float wi = w.getAtIndex(F, i);
            double grad = g.getAtIndex(F, i) + weightDecay * wi;
            m[i] = (float) (beta1 * m[i] + (1 - beta1) * grad);
            v[i] = (float) (beta2 * v[i] + (1 - beta2) * grad * grad);
            double mHat = m[i] / c1;
            double vHat = v[i] / c2;
            w.setAtIndex(F, i, (float) (wi - rate * mHat / (Math.sqrt(vHat) + epsilon)));
        }
    }
}
