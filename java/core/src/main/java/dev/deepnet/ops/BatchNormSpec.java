package dev.deepnet.ops;

/**
 * Batch normalisation's settings, PyTorch's: per channel c of x (N, C, H, W),
 * {@code y = gamma[c] (x - mean[c]) / sqrt(var[c] + epsilon) + beta[c]}. In training the mean and
 * (biased) variance are the batch's, over N, H and W, and the running estimates move towards them:
 * {@code running = (1 - momentum) running + momentum batch}, the variance unbiased (times M / (M - 1),
 * M = N H W) for the running estimate. At inference the running estimates are the statistics.
 */
public record BatchNormSpec(float epsilon, float momentum) {

    public BatchNormSpec {
        if (!(epsilon > 0) || !Float.isFinite(epsilon)) {
            throw new IllegalArgumentException("batch normalisation needs a finite epsilon > 0, got " + epsilon);
        }
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("batch normalisation's momentum must be in [0, 1], got " + momentum);
        }
    }

    /** PyTorch's defaults: epsilon 1e-5, momentum 0.1. */
    public static BatchNormSpec defaults() {
        return new BatchNormSpec(1e-5f, 0.1f);
    }
}
