package dev.deepnet.data;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Samples in memory, off-heap: inputs (N, sample...) and targets (N, target...), plus class
 * labels when the targets are one-hot classes. Minibatches are copied straight from here into a
 * plan's input buffer, sample by sample with no garbage ({@link #copyBatch}).
 */
public final class Dataset implements AutoCloseable {

    private final Tensor inputs; // (N, sample...)
    private final Tensor targets; // (N, target...)
    private final int[] labels; // (N) class indices, or null

    private Dataset(Tensor inputs, Tensor targets, int[] labels) {
        if (inputs.shape().dim(0) != targets.shape().dim(0)) {
            throw new IllegalArgumentException("inputs " + inputs.shape() + " and targets " + targets.shape()
                    + " hold different numbers of samples");
        }
        this.inputs = inputs;
        this.targets = targets;
        this.labels = labels;
    }

    /** Inputs and real-valued targets, copied from arrays: {@code inputs.length = n * sample.size()}. */
    public static Dataset of(float[] inputs, Shape sample, float[] targets, Shape target) {
        long n = count(inputs.length, sample, "inputs");
        long m = count(targets.length, target, "targets");
        if (n != m) {
            throw new IllegalArgumentException(n + " input samples but " + m + " targets");
        }
        Tensor x = Tensor.of(withBatch(n, sample), inputs);
        Tensor y = Tensor.of(withBatch(n, target), targets);
        return new Dataset(x, y, null);
    }

    /** Inputs with class labels in [0, classes): targets are one-hot (N, classes). */
    public static Dataset classification(float[] inputs, Shape sample, int[] labels, int classes) {
        long n = count(inputs.length, sample, "inputs");
        if (n != labels.length) {
            throw new IllegalArgumentException(n + " input samples but " + labels.length + " labels");
        }
        float[] oneHot = new float[Math.multiplyExact(labels.length, classes)];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " of sample " + i + " is not in [0, " + classes + ")");
            }
            oneHot[i * classes + labels[i]] = 1f;
        }
        Tensor x = Tensor.of(withBatch(n, sample), inputs);
        Tensor y = Tensor.of(Shape.of(n, classes), oneHot);
        return new Dataset(x, y, labels.clone());
    }

    private static long count(long length, Shape sample, String what) {
        if (length == 0 || length % sample.size() != 0) {
            throw new IllegalArgumentException(what + " of " + length + " floats are not a whole number of samples of shape " + sample);
        }
        return length / sample.size();
    }

    static Shape withBatch(long n, Shape sample) {
        long[] d = new long[sample.rank() + 1];
        d[0] = n;
        System.arraycopy(sample.dims(), 0, d, 1, sample.rank());
        return Shape.of(d);
    }

    /** Number of samples. */
    public int size() {
        return Math.toIntExact(inputs.shape().dim(0));
    }

    public Tensor inputs() {
        return inputs;
    }

    public Tensor targets() {
        return targets;
    }

    /** Class labels, or null when the targets are not classes. */
    public int[] labels() {
        return labels == null ? null : labels.clone();
    }

    public int label(int i) {
        return labels[i];
    }

    public boolean hasLabels() {
        return labels != null;
    }

    /**
     * Copies samples {@code order[from .. from + count)} into {@code inputBatch} and their targets
     * into {@code targetBatch} (either may be null), row by row.
     */
    public void copyBatch(int[] order, int from, int count, Tensor inputBatch, Tensor targetBatch) {
        copyRows(inputs, order, from, count, inputBatch);
        copyRows(targets, order, from, count, targetBatch);
    }

    private static void copyRows(Tensor source, int[] order, int from, int count, Tensor batch) {
        if (batch == null) {
            return;
        }
        long row = source.shape().byteSize() / source.shape().dim(0);
        if (batch.shape().dim(0) != count || batch.shape().byteSize() != row * count) {
            throw new IllegalArgumentException("batch " + batch.shape() + " does not hold " + count + " rows of " + source.shape());
        }
        MemorySegment src = source.segment();
        MemorySegment dst = batch.segment();
        for (int i = 0; i < count; i++) {
            MemorySegment.copy(src, (long) order[from + i] * row, dst, (long) i * row, row);
        }
    }

    @Override
    public void close() {
        inputs.close();
        targets.close();
    }
}
