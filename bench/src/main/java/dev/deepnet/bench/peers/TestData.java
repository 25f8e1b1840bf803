package dev.deepnet.bench.peers;

/**
 * The inputs of the primitive workloads, the same bits in every peer (dnnl_peer.c computes the
 * same function): element {@code i} of a tensor with offset {@code o} is the top 24 bits of
 * {@code (i + o) * 2654435761 mod 2^32}, scaled to [-0.5, 0.5) — exact in float. The peers' output
 * checksums (plain sums) then agree up to summation order.
 */
final class TestData {
    private TestData() {}

    static final long SRC = 0;
    static final long WEIGHTS = 1L << 24;
    static final long BIAS = 2L << 24;

    static float value(long i, long offset) {
        long h = ((i + offset) * 2654435761L) & 0xffffffffL;
        return (h >>> 8) * 0x1p-24f - 0.5f;
    }
}
