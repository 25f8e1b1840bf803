package dev.deepnet.nn;

import dev.deepnet.ops.Activation;

/** max(0, x). */
public final class Relu extends ActivationLayer {

    public Relu() {
        super(Activation.RELU);
    }

    @Override
    String kind() {
        return "relu";
    }
}
