package dev.deepnet.adversarial;

import dev.deepnet.nn.Model;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fooling images (Nguyen et al. 2015, "things it thinks are a school bus"): starting from noise
 * or a blank image, gradient ascent on one class's log-probability until the net gives that class
 * at least {@link #confidence} — images a person would not call that class at all.
 *
 * <p>Each step moves every pixel by {@code stepSize} along the sign of d log p(class) / dx (the
 * steepest ascent under an L-infinity step, which needs no tuning to the gradient's scale), then
 * clamps it to the pixel range. An image stops as soon as it reaches the confidence; the others go
 * on until {@link #maxSteps}. Immutable; seeded: the same seed gives the same images. The model is
 * only read.
 */
public final class FoolingImageGenerator {

    private final boolean noise; // start from uniform noise over the pixel range, else from a constant
    private final long seed;
    private final float blank;
    private final double confidence;
    private final int maxSteps;
    private final double stepSize;
    private final float low;
    private final float high;

    private FoolingImageGenerator(boolean noise, long seed, float blank, double confidence, int maxSteps, double stepSize, float low,
            float high) {
        this.noise = noise;
        this.seed = seed;
        this.blank = blank;
        this.confidence = confidence;
        this.maxSteps = maxSteps;
        this.stepSize = stepSize;
        this.low = low;
        this.high = high;
    }

    /** Starts each image from uniform noise over the pixel range, drawn from {@code seed} (one stream per image, split in order). */
    public static FoolingImageGenerator fromNoise(long seed) {
        return new FoolingImageGenerator(true, seed, 0, 0.99, 1000, 0.01, 0f, 1f);
    }

    /** Starts each image blank: every pixel {@code value}, which must lie in the pixel range. */
    public static FoolingImageGenerator fromBlank(float value) {
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException("FoolingImageGenerator: a blank image's value must be finite, got " + value);
        }
        return new FoolingImageGenerator(false, 0, value, 0.99, 1000, 0.01, 0f, 1f);
    }

    /** The probability to reach, in (0, 1); default 0.99. */
    public FoolingImageGenerator confidence(double confidence) {
        if (!(confidence > 0 && confidence < 1)) {
            throw new IllegalArgumentException("FoolingImageGenerator: confidence must be in (0, 1), got " + confidence);
        }
        return new FoolingImageGenerator(noise, seed, blank, confidence, maxSteps, stepSize, low, high);
    }

    /** At most this many steps per image; default 1000. */
    public FoolingImageGenerator maxSteps(int maxSteps) {
        if (maxSteps < 1) {
            throw new IllegalArgumentException("FoolingImageGenerator: maxSteps must be >= 1, got " + maxSteps);
        }
        return new FoolingImageGenerator(noise, seed, blank, confidence, maxSteps, stepSize, low, high);
    }

    /** How far each pixel moves per step; default 0.01. */
    public FoolingImageGenerator stepSize(double stepSize) {
        if (!(stepSize > 0) || Double.isInfinite(stepSize)) {
            throw new IllegalArgumentException("FoolingImageGenerator: stepSize must be a finite number > 0, got " + stepSize);
        }
        return new FoolingImageGenerator(noise, seed, blank, confidence, maxSteps, stepSize, low, high);
    }

    /** Pixels are kept in [low, high] (default [0, 1]). */
    public FoolingImageGenerator pixelRange(float low, float high) {
        if (!(low < high) || Float.isInfinite(low) || Float.isInfinite(high)) {
            throw new IllegalArgumentException("FoolingImageGenerator: pixel range needs finite low < high, got [" + low + ", " + high + "]");
        }
        return new FoolingImageGenerator(noise, seed, blank, confidence, maxSteps, stepSize, low, high);
    }

    public double confidence() {
        return confidence;
    }

    public int maxSteps() {
        return maxSteps;
    }

    /**
     * One fooling image: the class it was made for, the probability the model gives that class,
     * the steps taken, whether it reached the confidence, and the model's label for it (the target
     * when it did).
     */
    public record Fooling(int targetClass, double confidence, int steps, boolean reached, int label) {}

    /**
     * Makes one image per entry of {@code classes}, written into {@code images} (classes.length,
     * sample...) in that order.
     */
    public List<Fooling> generate(Model model, Ops ops, int[] classes, Tensor images) {
        try (ClassifierGradient net = new ClassifierGradient(model, ops, "FoolingImageGenerator")) {
            net.checkImages(images, "FoolingImageGenerator", "the output images");
            int n = classes.length;
            if (images.shape().dim(0) != n) {
                throw new IllegalArgumentException("FoolingImageGenerator: " + n + " classes asked for but the output holds "
                        + images.shape().dim(0) + " images " + images.shape());
            }
            int k = net.classes();
            for (int c : classes) {
                if (c < 0 || c >= k) {
                    throw new IllegalArgumentException("FoolingImageGenerator: class " + c + " is not a class of the model [0, " + k + ")");
                }
            }
            if (!noise && !(blank >= low && blank <= high)) {
                throw new IllegalArgumentException("FoolingImageGenerator: the blank value " + blank + " is outside the pixel range ["
                        + low + ", " + high + "]");
            }
            int size = net.sampleSize();
            float[] x = start(n, size);
            float[] grad = new float[n * size];
            double[] probs = new double[n * k];
            int[] steps = new int[n];
            boolean[] done = new boolean[n];
            // The whole batch goes through the net each step (one plan); finished images are no longer moved.
            for (int step = 0; ; step++) {
                net.lossGradient(x, n, classes, grad, probs);
                boolean all = true;
                for (int i = 0; i < n; i++) {
                    if (done[i]) {
                        continue;
                    }
                    if (probs[i * k + classes[i]] >= confidence || step == maxSteps) {
                        done[i] = true;
                        steps[i] = step;
                        continue;
                    }
                    all = false;
                    // grad is that of -log p, so ascent on log p goes against it.
                    for (int j = i * size; j < (i + 1) * size; j++) {
                        x[j] = (float) Math.min(high, Math.max(low, x[j] - stepSize * Math.signum(grad[j])));
                    }
                }
                if (all) {
                    break;
                }
            }
            MemorySegment.copy(x, 0, images.segment(), ValueLayout.JAVA_FLOAT, 0, n * size);
            List<Fooling> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                double p = probs[i * k + classes[i]];
                out.add(new Fooling(classes[i], p, steps[i], p >= confidence, net.argmax(probs, i)));
            }
            return out;
        }
    }

    private float[] start(int n, int size) {
        float[] x = new float[n * size];
        SplittableRandom root = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            SplittableRandom r = root.split();
            for (int j = 0; j < size; j++) {
                x[i * size + j] = noise ? (float) (low + (high - low) * r.nextDouble()) : blank;
            }
        }
        return x;
    }
}
