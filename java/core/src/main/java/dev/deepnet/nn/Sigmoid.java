package dev.deepnet.nn;

import dev.deepnet.ops.Activation;

/** The logistic function 1 / (1 + e^-x): the lecture's neuron output, between 0 and 1. */
public final class Sigmoid extends ActivationLayer {

    public Sigmoid() {
        super(Activation.SIGMOID);
    }

    @Override
    String kind() {
        return "sigmoid";
    }
}
