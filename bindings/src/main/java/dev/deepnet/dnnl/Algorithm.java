package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

/** Algorithm kinds ({@code dnnl_alg_kind_t}) deepnet uses. */
public enum Algorithm {
    CONVOLUTION_DIRECT(dnnl_convolution_direct),
    CONVOLUTION_AUTO(dnnl_convolution_auto),
    ELTWISE_RELU(dnnl_eltwise_relu),
    ELTWISE_TANH(dnnl_eltwise_tanh),
    ELTWISE_LOGISTIC(dnnl_eltwise_logistic),
    ELTWISE_LINEAR(dnnl_eltwise_linear),
    /** min(max(x, alpha), beta); backward passes the gradient where {@code alpha < x < beta} (PyTorch's hardtanh). */
    ELTWISE_CLIP_V2(dnnl_eltwise_clip_v2),
    /** Logistic computed from its output in backward: {@code dy * y * (1 - y)}. */
    ELTWISE_LOGISTIC_USE_DST(dnnl_eltwise_logistic_use_dst_for_bwd),
    ELTWISE_TANH_USE_DST(dnnl_eltwise_tanh_use_dst_for_bwd),
    ELTWISE_RELU_USE_DST(dnnl_eltwise_relu_use_dst_for_bwd),
    POOLING_MAX(dnnl_pooling_max),
    POOLING_AVG_INCLUDE_PADDING(dnnl_pooling_avg_include_padding),
    POOLING_AVG_EXCLUDE_PADDING(dnnl_pooling_avg_exclude_padding),
    LRN_ACROSS_CHANNELS(dnnl_lrn_across_channels),
    LRN_WITHIN_CHANNEL(dnnl_lrn_within_channel),
    BINARY_ADD(dnnl_binary_add),
    BINARY_MUL(dnnl_binary_mul),
    SOFTMAX_ACCURATE(dnnl_softmax_accurate),
    SOFTMAX_LOG(dnnl_softmax_log);

    private final int code;

    Algorithm(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
