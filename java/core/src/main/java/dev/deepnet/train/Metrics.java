package dev.deepnet.train;

import dev.deepnet.tensor.Tensor;

/** Classification metrics on scores or probabilities (N, classes) and integer labels. */
public final class Metrics {
    private Metrics() {}

    /** Fraction of rows whose highest score is the label. */
    public static double accuracy(Tensor scores, int[] labels) {
        return 1 - topKError(scores, labels, 1);
    }

    /**
     * Fraction of rows whose label is not among the k highest scores (top-1 error, top-5 error:
     * the ImageNet measures). Ties are broken against the label: a label tied with the k-th
     * score counts as outside.
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
        int wrong = 0;
        for (int row = 0; row < n; row++) {
            if (labels[row] < 0 || labels[row] >= c) {
                throw new IllegalArgumentException("label " + labels[row] + " at row " + row + " is not a class in [0, " + c + ")");
            }
            float own = scores.getFlat((long) row * c + labels[row]);
            int higher = 0;
            for (int j = 0; j < c; j++) {
                if (j != labels[row] && scores.getFlat((long) row * c + j) >= own) {
                    higher++;
                }
            }
            if (higher >= k) {
                wrong++;
            }
        }
        return (double) wrong / n;
    }

    /** The index of the highest score in each row. */
    public static int[] argmax(Tensor scores) {
        int n = scores.shape().intDim(0);
        int c = scores.shape().intDim(1);
        int[] out = new int[n];
        for (int row = 0; row < n; row++) {
            int best = 0;
            for (int j = 1; j < c; j++) {
                if (scores.getFlat((long) row * c + j) > scores.getFlat((long) row * c + best)) {
                    best = j;
                }
            }
            out[row] = best;
        }
        return out;
    }
}
