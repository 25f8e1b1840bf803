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
        Tensor x = Tensor.of(sample.batched(n), inputs);
        Tensor y = Tensor.of(target.batched(n), targets);
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
        Tensor x = Tensor.of(sample.batched(n), inputs);
        Tensor y = Tensor.of(Shape.of(n, classes), oneHot);
        return new Dataset(x, y, labels.clone());
    }

    private static long count(long length, Shape sample, String what) {
        if (length == 0 || length % sample.size() != 0) {
            throw new IllegalArgumentException(what + " of " + length + " floats are not a whole number of samples of shape " + sample);
        }
        return length / sample.size();
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

    /** A new dataset with the first {@code n} samples (a copy). */
    public Dataset head(int n) {
        int[] rows = new int[Math.min(n, size())];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        return select(rows);
    }

    /**
     * Splits into two new datasets: a seeded random {@code fraction} of the samples, and the rest
     * (copies; close them, and this one when no longer needed).
     */
    public Dataset[] split(double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("split fraction must be in (0, 1), got " + fraction);
        }
        int n = size();
        int first = (int) Math.round(n * fraction);
        if (first < 1 || first >= n) {
            throw new IllegalArgumentException("splitting " + n + " samples at " + fraction + " leaves one side empty");
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new Dataset[] {select(java.util.Arrays.copyOfRange(order, 0, first)), select(java.util.Arrays.copyOfRange(order, first, n))};
    }

    /** A new dataset of the given rows, in that order. */
    public Dataset select(int[] rows) {
        Tensor x = Tensor.allocate(inputs.shape().withDim(0, rows.length));
        Tensor y = Tensor.allocate(targets.shape().withDim(0, rows.length));
        try {
            copyBatch(rows, 0, rows.length, x, y);
        } catch (RuntimeException e) {
            x.close();
            y.close();
            throw e;
        }
        int[] l = null;
        if (labels != null) {
            l = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                l[i] = labels[rows[i]];
            }
        }
        return new Dataset(x, y, l);
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
