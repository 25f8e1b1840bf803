package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Dropout: in training, each step every neuron is kept with probability 1 - p and otherwise
 * silenced. The mask is drawn in Java into an off-heap buffer from the plan's seeded random
 * stream (same seed, same masks) and scaled by 1 / (1 - p) ("inverted dropout"), so nothing
 * changes at inference, where the layer passes its input through. Backward multiplies by the same
 * mask the forward pass used.
 */
public final class Dropout extends Layer {

    private final double p;

    /** Drops each neuron with probability {@code p} in [0, 1). */
    public Dropout(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        this.p = p;
    }

    public double probability() {
        return p;
    }

    @Override
    String kind() {
        return "dropout";
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        return single(inputs, 0, "any");
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        Shape s = outputShape(inputs);
        Ops ops = ctx.ops();
        boolean drops = ctx.dropout() && p > 0; // an input-gradient plan differentiates the inference net: identity
        Tensor mask = drops ? ctx.allocate(s) : null; // same shape as the input: 0 or 1 / (1 - p)
        SplittableRandom random = ctx.random();
        float keep = (float) (1.0 / (1.0 - p));
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                if (!training || !drops) {
                    y.copyFrom(x[0]);
                    return;
                }
                MemorySegment m = mask.segment();
                for (long i = 0; i < s.size(); i++) {
                    m.setAtIndex(ValueLayout.JAVA_FLOAT, i, random.nextDouble() < p ? 0f : keep);
                }
                ops.multiply(x[0], mask, y);
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] == null) {
                    return;
                }
                if (!drops) {
                    dx[0].copyFrom(dy);
                } else {
                    ops.multiply(dy, mask, dx[0]);
                }
            }
        };
    }
}
