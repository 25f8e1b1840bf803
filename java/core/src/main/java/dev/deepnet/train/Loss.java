package dev.deepnet.train;

import dev.deepnet.tensor.Tensor;

/**
 * A loss: how far a batch of outputs is from what was wanted, averaged over the batch, and its
 * gradient with respect to the outputs. Training descends it. Maximising a likelihood by gradient
 * ascent is the same as descending the negative log-likelihood, which is what
 * {@link BinaryCrossEntropy} and {@link SoftmaxCrossEntropy} are.
 */
public interface Loss {

    /**
     * Returns the loss of {@code output} against {@code target} (same shape), averaged over the
     * batch (dimension 0), and writes dLoss/dOutput into {@code gradient}.
     */
    double evaluate(Tensor output, Tensor target, Tensor gradient);

    /** The loss only, without a gradient. */
    double value(Tensor output, Tensor target);

    static void checkShapes(String loss, Tensor output, Tensor target, Tensor gradient) {
        if (!output.shape().equals(target.shape())) {
            throw new IllegalArgumentException(loss + ": target " + target.shape() + " does not match output " + output.shape());
        }
        if (gradient != null && !gradient.shape().equals(output.shape())) {
            throw new IllegalArgumentException(loss + ": gradient " + gradient.shape() + " does not match output " + output.shape());
        }
    }
}
