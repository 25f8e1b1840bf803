package dev.deepnet.dnnl;

import dev.deepnet.nativelib.Lifetime;
import java.lang.foreign.MemorySegment;

/**
 * An owned oneDNN handle: destroyed exactly once, on {@link #close()}. Any use after close throws
 * {@link IllegalStateException} instead of handing a dangling pointer to C.
 *
 * <p>A handle may be used from several threads at once where oneDNN allows it (executing a
 * primitive, reading a descriptor). Calls that may run long — executing a primitive, on every
 * handle it touches — {@linkplain #holdHandle hold} the handle for their duration, and closing a
 * handle that a call holds throws {@link IllegalStateException} and destroys nothing.
 */
abstract sealed class NativeHandle implements AutoCloseable
        permits Engine, Stream, MemoryDesc, Memory, PrimitiveDesc, Primitive, PrimitiveAttr {

    /** Every handle ever made, by any thread: a steady-state loop must not add to it. */
    private static final java.util.concurrent.atomic.AtomicLong CREATED = new java.util.concurrent.atomic.AtomicLong();

    private final String kind;
    private final Lifetime lifetime = new Lifetime();
    private volatile MemorySegment handle; // null once closed

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

    /**
     * The raw handle, held until {@link #releaseHandle}: closing this handle (or, for a borrowed view,
     * its owner) meanwhile fails instead of destroying it. Throws when closed.
     */
    final MemorySegment holdHandle() {
        NativeHandle owner = owner();
        if (owner != this) {
            MemorySegment h = handle();
            owner.holdHandle();
            return h;
        }
        lifetime.acquire(kind);
        MemorySegment h = handle;
        if (h == null || !ownerOpen()) {
            lifetime.release();
            throw new IllegalStateException(kind + " is closed" + (h == null ? "" : " (its owner was closed)"));
        }
        return h;
    }

    /** Ends a use begun by {@link #acquire}. */
    final void releaseHandle() {
        NativeHandle owner = owner();
        if (owner != this) {
            owner.releaseHandle();
        } else {
            lifetime.release();
        }
    }

    /** The handle whose lifetime this one's depends on: itself, or for a borrowed view, what it was borrowed from. */
    NativeHandle owner() {
        return this;
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

    /**
     * Destroys the handle; later calls do nothing. Closing a borrowed view does nothing. Throws
     * {@link IllegalStateException}, destroying nothing, while another thread's call holds it.
     */
    @Override
    public final void close() {
        if (!owns() || !lifetime.end(this)) {
            return;
        }
        MemorySegment h = handle;
        handle = null;
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
