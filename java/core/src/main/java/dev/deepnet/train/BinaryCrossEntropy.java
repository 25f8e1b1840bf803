package dev.deepnet.train;

import dev.deepnet.tensor.Tensor;

/**
 * The negative log-likelihood of sigmoid outputs z in (0, 1) for labels t in {0, 1} (or
 * probabilities): {@code L = -1/N sum [t log z + (1 - t) log(1 - z)]}. Minimising it maximises
 * the likelihood of the data — the product of z over positives and 1 - z over negatives.
 * {@code dL/dz = (z - t) / (z (1 - z)) / N}; outputs are clamped to [1e-7, 1 - 1e-7] so a
 * saturated neuron gives a large, finite gradient rather than infinity.
 */
public final class BinaryCrossEntropy implements Loss {

    private static final double EPS = 1e-7;

    @Override
    public double evaluate(Tensor output, Tensor target, Tensor gradient) {
        Loss.checkShapes("BinaryCrossEntropy", output, target, gradient);
        long n = output.shape().dim(0);
        double sum = 0;
        for (long i = 0; i < output.size(); i++) {
            double z = Math.min(Math.max(output.getFlat(i), EPS), 1 - EPS);
            double t = target.getFlat(i);
            sum -= t * Math.log(z) + (1 - t) * Math.log(1 - z);
            if (gradient != null) {
                gradient.setFlat(i, (float) ((z - t) / (z * (1 - z)) / n));
            }
        }
        return sum / n;
    }

    @Override
    public double value(Tensor output, Tensor target) {
        return evaluate(output, target, null);
    }
}
