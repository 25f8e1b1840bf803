package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Primitive attributes: scratchpad ownership, determinism. */
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

    @Override
    void destroy(MemorySegment h) {
        dnnl_primitive_attr_destroy(h);
    }
}
