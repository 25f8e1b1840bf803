package dev.deepnet.nn;

import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Tensor;

/** A nonlinearity applied element by element; any shape in, the same shape out. */
abstract sealed class ActivationLayer extends ElementwiseLayer permits Sigmoid, Relu, Tanh {

    private final Activation activation;

    ActivationLayer(Activation activation) {
        this.activation = activation;
    }

    Activation activation() {
        return activation;
    }

    @Override
    void forward(Ops ops, Tensor x, Tensor y) {
        ops.activationForward(activation, x, y);
    }

    @Override
    void backward(Ops ops, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        ops.activationBackward(activation, x, y, dy, dx);
    }
}
