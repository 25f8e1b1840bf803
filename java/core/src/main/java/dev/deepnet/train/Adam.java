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
        // m, v, and staging copies of w and g: bulk copies plus a plain float loop the JIT vectorises
        // run about five times faster than element-wise segment access.
        return new float[][] {new float[size], new float[size], new float[size], new float[size]};
    }

    @Override
    void update(MemorySegment w, MemorySegment g, float[][] state, double rate, long t) {
        float[] m = state[0];
        float[] v = state[1];
        float[] ws = state[2];
        float[] gs = state[3];
        int n = ws.length;
        MemorySegment.copy(w, F, 0, ws, 0, n);
        MemorySegment.copy(g, F, 0, gs, 0, n);
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        float decay = (float) weightDecay;
        float eps = (float) epsilon;
        // Bias corrections folded into the step size: rate * m^/(sqrt(v^)+eps) = a * m / (sqrt(v) + eps * sqrt(c2)).
        float c2root = (float) Math.sqrt(1 - Math.pow(beta2, t));
        float a = (float) (rate * c2root / (1 - Math.pow(beta1, t)));
        float epsHat = eps * c2root;
        for (int i = 0; i < n; i++) {
            float grad = gs[i] + decay * ws[i];
            float mi = b1 * m[i] + (1 - b1) * grad;
            float vi = b2 * v[i] + (1 - b2) * grad * grad;
            m[i] = mi;
            v[i] = vi;
            ws[i] -= a * mi / ((float) Math.sqrt(vi) + epsHat);
        }
        MemorySegment.copy(ws, 0, w, F, 0, n);
    }
}
