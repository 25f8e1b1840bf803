package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Tensor;

/**
 * min(max(x, min), max) element by element, PyTorch's {@code Hardtanh}; {@link #relu6()} is
 * MobileNet's ReLU6. Any shape; the gradient passes where {@code min < x < max}.
 */
public final class Clip extends ElementwiseLayer {

    private final float min;
    private final float max;

    public Clip(float min, float max) {
        if (!(min <= max) || !Float.isFinite(min) || !Float.isFinite(max)) {
            throw new IllegalArgumentException("a clip needs finite bounds, min <= max, got " + min + " and " + max
                    + " (for no bound, Float.MAX_VALUE)");
        }
        this.min = min;
        this.max = max;
    }

    /** min(max(x, 0), 6). */
    public static Clip relu6() {
        return new Clip(0f, 6f);
    }

    public float min() {
        return min;
    }

    public float max() {
        return max;
    }

    @Override
    String kind() {
        return "clip";
    }

    @Override
    void forward(Ops ops, Tensor x, Tensor y) {
        ops.clipForward(min, max, x, y);
    }

    @Override
    void backward(Ops ops, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        ops.clipBackward(min, max, x, dy, dx);
    }
}
