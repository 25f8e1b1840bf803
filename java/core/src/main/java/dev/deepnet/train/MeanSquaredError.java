package dev.deepnet.train;

import dev.deepnet.tensor.Tensor;

/**
 * Half the squared error, summed over outputs and averaged over the batch:
 * {@code L = 1/N sum_n sum_i (y - t)^2 / 2}, so {@code dL/dy = (y - t) / N}. The lecture's
 * performance function; for an autoencoder the target is the input itself.
 */
public final class MeanSquaredError implements Loss {

    @Override
    public double evaluate(Tensor output, Tensor target, Tensor gradient) {
        Loss.checkShapes("MeanSquaredError", output, target, gradient);
        long n = output.shape().dim(0);
        double sum = 0;
        for (long i = 0; i < output.size(); i++) {
            double d = (double) output.getFlat(i) - target.getFlat(i);
            sum += d * d;
            if (gradient != null) {
                gradient.setFlat(i, (float) (d / n));
            }
        }
        return sum / 2 / n;
    }

    @Override
    public double value(Tensor output, Tensor target) {
        return evaluate(output, target, null);
    }
}
