package dev.deepnet.nn;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;

/**
 * A learnable tensor of a layer (weights or bias), owned by the layer. A frozen parameter gets no
 * gradient and is never updated. Initialised once — when the first model that contains its layer
 * is built — so a layer moved into another model keeps what it learned.
 */
public final class Parameter implements AutoCloseable {

    private final String name;
    private final Tensor value;
    private boolean frozen;
    private boolean initialized;
    /** Bumped by {@link #value()} and {@link #markChanged()}: plans that keep a packed copy compare it. */
    private volatile long version;

    Parameter(String name, Shape shape) {
        this.name = name;
        this.value = Tensor.allocate(shape);
    }

    /** The name within its layer: {@code weight} or {@code bias}. */
    public String name() {
        return name;
    }

    public Shape shape() {
        return value.shape();
    }

    /**
     * The values, row-major; optimizers update them in place. Calling this counts as a change
     * ({@link #version()}): an inference plan that keeps a copy of these weights in the layout its
     * primitive prefers packs them again before its next forward pass. Code that keeps the tensor
     * and writes it later calls {@link #markChanged()} after writing.
     */
    public Tensor value() {
        version++;
        return value;
    }

    /** Says the values were written through a tensor kept from an earlier {@link #value()} call. */
    public void markChanged() {
        version++;
    }

    /** How many times the values may have changed: packed copies of an older version are out of date. */
    public long version() {
        return version;
    }

    /** The values, for a plan's own steps, which only read them: not counted as a change. */
    Tensor data() {
        return value;
    }

    public boolean isFrozen() {
        return frozen;
    }

    public void setFrozen(boolean frozen) {
        this.frozen = frozen;
    }

    boolean isInitialized() {
        return initialized;
    }

    void markInitialized() {
        initialized = true;
    }

    @Override
    public void close() {
        value.close();
    }

    @Override
    public String toString() {
        return name + value.shape() + (frozen ? " (frozen)" : "");
    }
}
