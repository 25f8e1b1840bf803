package dev.deepnet.tensor;

import dev.deepnet.nativelib.Lifetime;
import java.lang.foreign.Arena;

/**
 * Tensors freed together: a plan's buffers. Every tensor allocated here shares the arena's
 * {@link Lifetime}, so closing the arena while a native call uses any of them throws
 * {@link IllegalStateException} and frees nothing.
 */
public final class TensorArena implements AutoCloseable {

    private final Arena arena = Arena.ofShared();
    private final Lifetime lifetime = new Lifetime();
    private final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();

    /** A zeroed, 64-byte aligned, row-major tensor, freed when this arena is closed. */
    public Tensor allocate(Shape shape) {
        return allocate(shape, null);
    }

    /**
     * A zeroed, 64-byte aligned tensor in a backend's {@code layout} (null: row-major), freed when
     * this arena is closed. Only ops of a backend that takes the layout read and write it.
     */
    public Tensor allocate(Shape shape, Layout layout) {
        lifetime.acquire(this); // not while (or after) the arena closes
        try {
            Tensor t = Tensor.allocate(arena, lifetime, shape, layout);
            bytes.addAndGet(Tensor.byteSize(shape, layout));
            return t;
        } finally {
            lifetime.release();
        }
    }

    public boolean isOpen() {
        return lifetime.isAlive();
    }

    /** The lifetime all of this arena's tensors share: whoever holds it keeps every one of them alive. */
    public Lifetime lifetime() {
        return lifetime;
    }

    /** Frees every tensor allocated here; later calls do nothing. */
    @Override
    public void close() {
        if (lifetime.end(this)) {
            arena.close();
            Tensor.freed(bytes.get());
        }
    }

    @Override
    public String toString() {
        return "TensorArena" + (isOpen() ? "" : " (closed)");
    }
}
