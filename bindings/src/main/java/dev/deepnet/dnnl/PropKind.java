package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

/**
 * Propagation kinds ({@code dnnl_prop_kind_t}). oneDNN's advice: use {@link #FORWARD_INFERENCE}
 * for inference (no workspace, faster kernels), {@link #FORWARD_TRAINING} when a backward pass
 * follows.
 */
public enum PropKind {
    FORWARD_TRAINING(dnnl_forward_training),
    FORWARD_INFERENCE(dnnl_forward_inference),
    BACKWARD(dnnl_backward),
    BACKWARD_DATA(dnnl_backward_data),
    BACKWARD_WEIGHTS(dnnl_backward_weights),
    BACKWARD_BIAS(dnnl_backward_bias);

    private final int code;

    PropKind(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
