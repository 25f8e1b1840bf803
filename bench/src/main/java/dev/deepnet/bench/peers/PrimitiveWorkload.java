package dev.deepnet.bench.peers;

import java.util.Locale;

/**
 * The primitive workloads of the side-by-side table; dnnl_peer.c defines the same shapes. Convs are
 * forward inference with bias, matmul has no bias, ReLU is oneDNN's eltwise_relu (alpha 0).
 */
enum PrimitiveWorkload {
    /** AlexNet conv1 at N=32: 3x227x227 -> 96x55x55, 11x11 stride 4. */
    CONV_ALEXNET1(new long[] {32, 3, 227, 227}, new long[] {96, 3, 11, 11}, 4, 0),
    /** The LeNet-style net's first conv at N=64: 1x28x28 -> 32x28x28, 5x5 pad 2. */
    CONV_LENET(new long[] {64, 1, 28, 28}, new long[] {32, 1, 5, 5}, 1, 2),
    /** f32 matmul 1024 x 1024 x 1024. */
    MATMUL_1024(new long[] {1024, 1024}, new long[] {1024, 1024}, 0, 0),
    /** ReLU on 10 floats: what one call costs. */
    RELU_10(new long[] {10}, null, 0, 0);

    final long[] src;
    final long[] weights;
    final int stride;
    final int pad;

    PrimitiveWorkload(long[] src, long[] weights, int stride, int pad) {
        this.src = src;
        this.weights = weights;
        this.stride = stride;
        this.pad = pad;
    }

    String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static PrimitiveWorkload of(String id) {
        for (PrimitiveWorkload w : values()) {
            if (w.id().equals(id)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown primitive workload '" + id + "'; known: conv-alexnet1, conv-lenet, matmul-1024, relu-10");
    }

    boolean isConv() {
        return this == CONV_ALEXNET1 || this == CONV_LENET;
    }

    /** Output dims. */
    long[] dst() {
        return switch (this) {
            case CONV_ALEXNET1, CONV_LENET -> {
                long oh = (src[2] + 2L * pad - weights[2]) / stride + 1;
                long ow = (src[3] + 2L * pad - weights[3]) / stride + 1;
                yield new long[] {src[0], weights[0], oh, ow};
            }
            case MATMUL_1024 -> new long[] {src[0], weights[1]};
            case RELU_10 -> src.clone();
        };
    }

    static long size(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }
}
