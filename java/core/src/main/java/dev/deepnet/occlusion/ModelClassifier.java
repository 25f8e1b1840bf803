package dev.deepnet.occlusion;

import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Softmax;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import java.lang.foreign.MemorySegment;

/**
 * A trained {@link Model} as an {@link ImageClassifier}: its raw scores through a softmax (unless
 * its last layer already is one). Batches run through inference plans compiled for powers of two
 * up to {@code maxBatch} (rounded up to one), a batch padded up to the next: the searches ask for batches of every
 * size, and a plan per size would recompile all the time, while powers of two waste less than half
 * a batch and keep at most log2(maxBatch) + 1 plans.
 *
 * <p>Single-threaded, like the {@link Ops} it runs on. The model is only read; closing this frees
 * the plans, not the model or the ops.
 */
public final class ModelClassifier implements ImageClassifier, AutoCloseable {

    private final Model model;
    private final Ops ops;
    private final int maxBatch;
    private final int classes;
    private final int imageSize;
    private final boolean outputsProbabilities;
    private final Plan[] plans; // plans[i]: batch 2^i, compiled on first use
    private boolean closed;

    public ModelClassifier(Model model, Ops ops, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        Shape out = model.shapes(1)[model.output().index()];
        if (out.rank() != 2) {
            throw new IllegalArgumentException("a classifier outputs one score per class, but this model's output per sample is "
                    + out.sample());
        }
        if (out.dim(1) < 2) {
            throw new IllegalArgumentException("a classifier needs at least 2 classes, but this model outputs " + out.dim(1)
                    + " score per sample");
        }
        this.model = model;
        this.ops = ops;
        this.classes = out.intDim(1);
        this.imageSize = Math.toIntExact(model.sampleShape().size());
        this.outputsProbabilities = model.output().layer() instanceof Softmax;
        int powers = 1;
        while ((1 << (powers - 1)) < maxBatch) {
            powers++;
        }
        this.maxBatch = 1 << (powers - 1);
        this.plans = new Plan[powers];
    }

    /** The shape of one input image, e.g. (1, 28, 28). */
    public Shape imageShape() {
        return model.sampleShape();
    }

    public int classes() {
        return classes;
    }

    @Override
    public float[] probabilities(float[] images, int count) {
        if (closed) {
            throw new IllegalStateException("this ModelClassifier is closed");
        }
        if (count < 1 || images.length != (long) count * imageSize) {
            throw new IllegalArgumentException("for " + count + " images of " + model.sampleShape() + " expected "
                    + (long) count * imageSize + " floats, got " + images.length);
        }
        float[] out = new float[count * classes];
        for (int from = 0; from < count; from += maxBatch) {
            int n = Math.min(maxBatch, count - from);
            Plan plan = planFor(n);
            long bytes = (long) n * imageSize * Float.BYTES;
            plan.input().segment().asSlice(0, bytes)
                    .copyFrom(MemorySegment.ofArray(images).asSlice((long) from * imageSize * Float.BYTES, bytes));
            plan.forward(false);
            float[] scores = plan.output().toArray();
            for (int i = 0; i < n; i++) {
                int row = (from + i) * classes;
                if (outputsProbabilities) {
                    System.arraycopy(scores, i * classes, out, row, classes);
                } else {
                    softmax(scores, i * classes, out, row, classes);
                }
            }
        }
        return out;
    }

    /** exp(s - max) / sum: the max subtracted so no score overflows. */
    private static void softmax(float[] scores, int from, float[] out, int to, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, scores[from + i]);
        }
        double sum = 0;
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = Math.exp(scores[from + i] - max);
            sum += e[i];
        }
        for (int i = 0; i < n; i++) {
            out[to + i] = (float) (e[i] / sum);
        }
    }

    /** The smallest plan holding {@code n} images; rows past {@code n} keep whatever they held and are ignored. */
    private Plan planFor(int n) {
        int p = 0;
        while ((1 << p) < n) {
            p++;
        }
        if (plans[p] == null) {
            plans[p] = model.compileForInference(ops, 1 << p);
        }
        return plans[p];
    }

    @Override
    public void close() {
        closed = true;
        for (int i = 0; i < plans.length; i++) {
            if (plans[i] != null) {
                plans[i].close();
                plans[i] = null;
            }
        }
    }
}
