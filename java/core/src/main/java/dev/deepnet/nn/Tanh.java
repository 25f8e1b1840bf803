package dev.deepnet.nn;

import dev.deepnet.ops.Activation;

/** The hyperbolic tangent, between -1 and 1. */
public final class Tanh extends ActivationLayer {

    public Tanh() {
        super(Activation.TANH);
    }

    @Override
    String kind() {
        return "tanh";
    }
}
