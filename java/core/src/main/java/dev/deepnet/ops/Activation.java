package dev.deepnet.ops;

/** Element-wise nonlinearities. */
public enum Activation {
    /** Logistic: y = 1 / (1 + e^-x); dy/dx = y (1 - y). The lecture's neuron. */
    SIGMOID,
    /** y = max(0, x); dy/dx = 1 where x > 0, else 0. */
    RELU,
    /** y = tanh(x); dy/dx = 1 - y^2. */
    TANH,
    /** y = x: a neuron with no squashing (output layers of regressions). */
    LINEAR
}
