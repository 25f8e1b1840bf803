package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A oneDNN engine: the device primitives and memory belong to. deepnet uses the CPU engine.
 *
 * <p>Streams, memories, primitive descriptors and primitives made on an engine hold a reference
 * to it: closing the engine makes it unusable at once, but its C handle is destroyed only after
 * the last of them is closed, so nothing in C ever points at a destroyed engine.
 */
public final class Engine extends NativeHandle {

    private int users;
    private MemorySegment pendingDestroy;

    private Engine(MemorySegment handle) {
        super("Engine", handle);
    }

    /** The CPU engine. */
    public static Engine cpu() {
        long count = dnnl_engine_get_count(dnnl_cpu);
        if (count < 1) {
            throw new IllegalStateException("oneDNN reports no CPU engine (dnnl_engine_get_count returned " + count + ")");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_engine_create(out, dnnl_cpu, 0), "dnnl_engine_create", "cpu, index 0");
            return new Engine(out.get(C_POINTER, 0));
        }
    }

    /** Registers a dependent and returns the raw handle for it; throws when closed. */
    synchronized MemorySegment retain() {
        MemorySegment h = handle();
        users++;
        return h;
    }

    /** A dependent was closed; destroys the engine if it was closed and this was the last one. */
    synchronized void release() {
        if (--users == 0 && pendingDestroy != null) {
            dnnl_engine_destroy(pendingDestroy);
            pendingDestroy = null;
        }
    }

    @Override
    synchronized void destroy(MemorySegment h) {
        if (users == 0) {
            dnnl_engine_destroy(h);
        } else {
            pendingDestroy = h;
        }
    }

    @Override
    public String toString() {
        return "Engine[cpu" + (isOpen() ? "" : ", closed") + "]";
    }
}
