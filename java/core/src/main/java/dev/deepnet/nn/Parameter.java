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

    /** The values; optimizers update them in place. */
    public Tensor value() {
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
