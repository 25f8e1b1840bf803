package dev.deepnet.train;

import dev.deepnet.infer.ClassOutput;
import dev.deepnet.tensor.Tensor;

/**
 * Classification metrics on scores or probabilities (N, classes) and integer labels; the ranking
 * rules are {@link ClassOutput}'s, the ones every classifier in deepnet shares.
 */
public final class Metrics {
    private Metrics() {}

    /** Fraction of rows whose highest score is the label. */
    public static double accuracy(Tensor scores, int[] labels) {
        return 1 - topKError(scores, labels, 1);
    }

    /**
     * Fraction of rows whose label is not among the k highest scores (top-1 error, top-5 error:
     * the ImageNet measures). Ties are broken against the label: a label tied with the k-th
     * score counts as outside ({@link ClassOutput#inTopK}).
     */
    public static double topKError(Tensor scores, int[] labels, int k) {
        if (scores.shape().rank() != 2 || scores.shape().dim(0) != labels.length) {
            throw new IllegalArgumentException("scores must be (N, classes) with N = " + labels.length + " labels, got " + scores.shape());
        }
        int n = labels.length;
        int c = scores.shape().intDim(1);
        if (k < 1 || k > c) {
            throw new IllegalArgumentException("k must be in [1, " + c + "], got " + k);
        }
        java.lang.foreign.MemorySegment rows = scores.segment(); // read in place: no copy per training step
        int wrong = 0;
        for (int row = 0; row < n; row++) {
            if (labels[row] < 0 || labels[row] >= c) {
                throw new IllegalArgumentException("label " + labels[row] + " at row " + row + " is not a class in [0, " + c + ")");
            }
            if (!ClassOutput.inTopK(rows, (long) row * c, c, labels[row], k)) {
                wrong++;
            }
        }
        return (double) wrong / n;
    }

    /** The index of the highest score in each row (ties to the lower index). */
    public static int[] argmax(Tensor scores) {
        if (scores.shape().rank() != 2) {
            throw new IllegalArgumentException("scores must be (N, classes), got " + scores.shape());
        }
        int n = scores.shape().intDim(0);
        int c = scores.shape().intDim(1);
        int[] out = new int[n];
        for (int row = 0; row < n; row++) {
            out[row] = ClassOutput.argmax(scores.segment(), (long) row * c, c);
        }
        return out;
    }
}
