package dev.deepnet.nn;

import dev.deepnet.tensor.Tensor;

/**
 * A layer's work inside a {@link Plan}, built once for fixed shapes: its scratch buffers,
 * workspaces and masks are allocated when the plan compiles, so running it allocates nothing.
 */
interface Step extends AutoCloseable {

    /** out = layer(in). {@code training} switches dropout masks and pooling workspaces on. */
    void forward(Tensor[] in, Tensor out, boolean training);

    /**
     * Given dOut (the gradient of the loss with respect to out), overwrites each non-null dIn[i]
     * with the gradient with respect to in[i], and the layer's trainable parameters' gradients.
     * A null dIn[i] means nothing upstream needs it: skip computing it.
     */
    void backward(Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn);

    @Override
    default void close() {}
}
