package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Primitive attributes: scratchpad ownership, determinism, an element-wise post-op (fusion). */
public final class PrimitiveAttr extends NativeHandle {

    public PrimitiveAttr() {
        super("PrimitiveAttr", create());
    }

    private static MemorySegment create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_primitive_attr_create(out), "dnnl_primitive_attr_create");
            return out.get(C_POINTER, 0);
        }
    }

    /** Who allocates the primitive's scratch memory. */
    public PrimitiveAttr scratchpadMode(ScratchpadMode mode) {
        DnnlException.check(dnnl_primitive_attr_set_scratchpad_mode(handle(), mode.code()),
                "dnnl_primitive_attr_set_scratchpad_mode", mode.name());
        return this;
    }

    /** Asks for bit-for-bit reproducible results across runs (same threads, same ISA). */
    public PrimitiveAttr deterministic(boolean deterministic) {
        DnnlException.check(dnnl_primitive_attr_set_deterministic(handle(), deterministic ? 1 : 0),
                "dnnl_primitive_attr_set_deterministic");
        return this;
    }

    /**
     * Fuses {@code dst = algorithm(alpha, beta)(dst)} into the primitive (oneDNN's eltwise
     * post-op), replacing any post-ops set before: a convolution or inner product then applies its
     * activation as it writes its output, with no second pass over the memory.
     */
    public PrimitiveAttr eltwisePostOp(Algorithm algorithm, float alpha, float beta) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_post_ops_create(out), "dnnl_post_ops_create");
            MemorySegment postOps = out.get(C_POINTER, 0);
            try {
                DnnlException.check(dnnl_post_ops_append_eltwise(postOps, algorithm.code(), alpha, beta),
                        "dnnl_post_ops_append_eltwise", algorithm.name());
                DnnlException.check(dnnl_primitive_attr_set_post_ops(handle(), postOps), "dnnl_primitive_attr_set_post_ops");
            } finally {
                dnnl_post_ops_destroy(postOps); // the attribute keeps its own copy
            }
        }
        return this;
    }

    @Override
    void destroy(MemorySegment h) {
        dnnl_primitive_attr_destroy(h);
    }
}
