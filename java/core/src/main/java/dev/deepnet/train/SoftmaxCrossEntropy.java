package dev.deepnet.train;

import dev.deepnet.tensor.Tensor;

/**
 * Softmax and cross-entropy fused, on raw scores (logits) x of shape (N, classes) and target
 * probabilities t (one-hot labels) of the same shape: {@code p = softmax(x)},
 * {@code L = -1/N sum_n sum_c t log p}, and {@code dL/dx = (p - t) / N}. Computed from
 * {@code x - max(x)} with log-sum-exp, so large scores neither overflow nor lose the gradient.
 */
public final class SoftmaxCrossEntropy implements Loss {

    @Override
    public double evaluate(Tensor output, Tensor target, Tensor gradient) {
        Loss.checkShapes("SoftmaxCrossEntropy", output, target, gradient);
        if (output.shape().rank() != 2) {
            throw new IllegalArgumentException("SoftmaxCrossEntropy: expects scores (N, classes), got " + output.shape());
        }
        int n = output.shape().intDim(0);
        int c = output.shape().intDim(1);
        double total = 0;
        for (int row = 0; row < n; row++) {
            long base = (long) row * c;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, output.getFlat(base + j));
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(output.getFlat(base + j) - max);
            }
            double logSum = Math.log(sum);
            for (int j = 0; j < c; j++) {
                double logP = output.getFlat(base + j) - max - logSum;
                double t = target.getFlat(base + j);
                total -= t * logP;
                if (gradient != null) {
                    gradient.setFlat(base + j, (float) ((Math.exp(logP) - t) / n));
                }
            }
        }
        return total / n;
    }

    @Override
    public double value(Tensor output, Tensor target) {
        return evaluate(output, target, null);
    }
}
