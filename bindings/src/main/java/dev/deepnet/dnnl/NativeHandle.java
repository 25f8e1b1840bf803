package dev.deepnet.dnnl;

import java.lang.foreign.MemorySegment;

/**
 * An owned oneDNN handle: destroyed exactly once, on {@link #close()}. Any use after close throws
 * {@link IllegalStateException} instead of handing a dangling pointer to C.
 *
 * <p>A handle may be used from several threads at once where oneDNN allows it (executing a
 * primitive, reading a descriptor), but must not be closed while another thread uses it.
 */
abstract sealed class NativeHandle implements AutoCloseable
        permits Engine, Stream, MemoryDesc, Memory, PrimitiveDesc, Primitive, PrimitiveAttr {

    /** Every handle ever made, by any thread: a steady-state loop must not add to it. */
    private static final java.util.concurrent.atomic.AtomicLong CREATED = new java.util.concurrent.atomic.AtomicLong();

    private final String kind;
    private volatile MemorySegment handle;

    NativeHandle(String kind, MemorySegment handle) {
        if (handle == null || handle.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException(kind + ": oneDNN returned a null handle");
        }
        this.kind = kind;
        this.handle = handle;
        CREATED.incrementAndGet();
    }

    /** How many oneDNN objects (engines, memories, descriptors, primitives, ...) this JVM has created or viewed. */
    static long created() {
        return CREATED.get();
    }

    /** The raw handle; throws when closed. */
    final MemorySegment handle() {
        MemorySegment h = handle;
        if (h == null || !ownerOpen()) {
            throw new IllegalStateException(kind + " is closed" + (h == null ? "" : " (its owner was closed)"));
        }
        return h;
    }

    /** Whether this handle can still be used. */
    public final boolean isOpen() {
        return handle != null && ownerOpen();
    }

    /** For handles that borrow from another (a descriptor queried from a primitive descriptor). */
    boolean ownerOpen() {
        return true;
    }

    /** Whether closing this object releases anything; false for views borrowed from an owner. */
    boolean owns() {
        return true;
    }

    /** Destroys the handle; later calls do nothing. Closing a borrowed view does nothing. */
    @Override
    public final void close() {
        if (!owns()) {
            return;
        }
        MemorySegment h;
        synchronized (this) {
            h = handle;
            handle = null;
        }
        if (h != null) {
            destroy(h);
        }
    }

    /** Releases {@code h} in C. */
    abstract void destroy(MemorySegment h);

    final String kind() {
        return kind;
    }
}
