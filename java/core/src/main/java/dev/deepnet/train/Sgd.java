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
        // velocity (when there is momentum), and staging copies of w and g: bulk copies plus a plain
        // float loop the JIT vectorises beat element-wise segment access several times over.
        return new float[][] {momentum > 0 ? new float[size] : new float[0], new float[size], new float[size]};
    }

    @Override
    void update(MemorySegment w, MemorySegment g, float[][] state, double rate, long t) {
        float[] v = state[0];
        float[] ws = state[1];
        float[] gs = state[2];
        int n = ws.length;
        MemorySegment.copy(w, F, 0, ws, 0, n);
        MemorySegment.copy(g, F, 0, gs, 0, n);
        float lr = (float) rate;
        float mu = (float) momentum;
        float decay = (float) weightDecay;
        if (momentum > 0) {
            for (int i = 0; i < n; i++) {
                float vi = mu * v[i] + gs[i] + decay * ws[i];
                v[i] = vi;
                ws[i] -= lr * vi;
            }
        } else {
            for (int i = 0; i < n; i++) {
                ws[i] -= lr * (gs[i] + decay * ws[i]);
            }
        }
        MemorySegment.copy(ws, 0, w, F, 0, n);
    }
}
