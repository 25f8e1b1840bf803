package dev.deepnet.adversarial;

import dev.deepnet.nn.Model;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Adversarial examples within an L-infinity budget: every pixel moves by at most epsilon, in the
 * direction of the sign of the loss gradient with respect to the input (the gradient backprop
 * already computes, here through {@link Model#compileForInputGradient}).
 *
 * <ul>
 *   <li>{@link #fgsm}: the fast gradient sign method (Goodfellow et al. 2015), one step
 *       {@code x' = clamp(x + eps * sign(dL/dx))}.
 *   <li>{@link #iterative}: projected gradient sign steps (Kurakin et al. 2016; Madry et al. 2018
 *       without the random start, so it is deterministic): {@code steps} steps of {@code stepSize},
 *       each followed by projection onto the box {@code |x' - x| <= eps} intersected with the
 *       pixel range.
 * </ul>
 * Untargeted, L is the cross-entropy of the true label, climbed ("make it anything else");
 * {@link #targeted}, the cross-entropy of the target class, descended ("make it a school bus").
 * Pixels stay in {@link #pixelRange} ([0, 1] by default). Immutable: each {@code with}-style
 * method returns a new configuration. The model is only read: its weights are untouched.
 *
 * <pre>{@code
 * try (Tensor adv = Tensor.allocate(images.shape())) {
 *     GradientSignAttack.Result r = GradientSignAttack.iterative(0.1).run(model, ops, images, labels, adv);
 * }
 * }</pre>
 */
public final class GradientSignAttack {

    /** Iterative attacks' default number of steps. */
    public static final int DEFAULT_STEPS = 10;

    private final double epsilon;
    private final int steps;
    private final double stepSize;
    private final int target; // -1: untargeted
    private final float low;
    private final float high;
    private final int batchSize;

    private GradientSignAttack(double epsilon, int steps, double stepSize, int target, float low, float high, int batchSize) {
        this.epsilon = epsilon;
        this.steps = steps;
        this.stepSize = stepSize;
        this.target = target;
        this.low = low;
        this.high = high;
        this.batchSize = batchSize;
    }

    /** The fast gradient sign method: one step of size {@code epsilon}. */
    public static GradientSignAttack fgsm(double epsilon) {
        checkEpsilon(epsilon);
        return new GradientSignAttack(epsilon, 1, epsilon, -1, 0f, 1f, 100);
    }

    /**
     * The projected iterative attack with {@value #DEFAULT_STEPS} steps of {@code 2.5 * epsilon / steps}:
     * long enough steps to reach the edge of the box and then move along it (Madry et al.'s rule).
     */
    public static GradientSignAttack iterative(double epsilon) {
        checkEpsilon(epsilon);
        return iterative(epsilon, DEFAULT_STEPS, 2.5 * epsilon / DEFAULT_STEPS);
    }

    /** The projected iterative attack: {@code steps} gradient sign steps of {@code stepSize}, each projected back into the budget. */
    public static GradientSignAttack iterative(double epsilon, int steps, double stepSize) {
        checkEpsilon(epsilon);
        if (steps < 1) {
            throw new IllegalArgumentException("GradientSignAttack: steps must be >= 1, got " + steps);
        }
        if (!(stepSize >= 0) || Double.isInfinite(stepSize)) {
            throw new IllegalArgumentException("GradientSignAttack: stepSize must be a finite number >= 0, got " + stepSize);
        }
        return new GradientSignAttack(epsilon, steps, stepSize, -1, 0f, 1f, 100);
    }

    private static void checkEpsilon(double epsilon) {
        if (!(epsilon >= 0) || Double.isInfinite(epsilon)) {
            throw new IllegalArgumentException("GradientSignAttack: epsilon (the L-infinity budget) must be a finite number >= 0, got "
                    + epsilon);
        }
    }

    /** The same attack, pushing every image towards {@code targetClass} instead of away from its label. */
    public GradientSignAttack targeted(int targetClass) {
        if (targetClass < 0) {
            throw new IllegalArgumentException("GradientSignAttack: target class must be >= 0, got " + targetClass);
        }
        return new GradientSignAttack(epsilon, steps, stepSize, targetClass, low, high, batchSize);
    }

    /** The same attack, untargeted: away from each image's label. */
    public GradientSignAttack untargeted() {
        return new GradientSignAttack(epsilon, steps, stepSize, -1, low, high, batchSize);
    }

    /** Pixels are clamped to [low, high] (default [0, 1]); the images attacked must lie within it. */
    public GradientSignAttack pixelRange(float low, float high) {
        if (!(low < high) || Float.isInfinite(low) || Float.isInfinite(high)) {
            throw new IllegalArgumentException("GradientSignAttack: pixel range needs finite low < high, got [" + low + ", " + high + "]");
        }
        return new GradientSignAttack(epsilon, steps, stepSize, target, low, high, batchSize);
    }

    /** How many images go through the net at once (default 100); results do not depend on it. */
    public GradientSignAttack batchSize(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("GradientSignAttack: batch size must be >= 1, got " + batchSize);
        }
        return new GradientSignAttack(epsilon, steps, stepSize, target, low, high, batchSize);
    }

    public double epsilon() {
        return epsilon;
    }

    public int steps() {
        return steps;
    }

    public double stepSize() {
        return stepSize;
    }

    /** The target class, or -1 when untargeted. */
    public int target() {
        return target;
    }

    public boolean isTargeted() {
        return target >= 0;
    }

    /** E.g. "iterative (10 steps of 0.025), eps 0.1, targeted at class 8". */
    @Override
    public String toString() {
        String kind = steps == 1 && stepSize == epsilon ? "FGSM" : String.format(Locale.ROOT, "iterative (%d steps of %.4g)", steps, stepSize);
        return String.format(Locale.ROOT, "%s, eps %.4g, %s", kind, epsilon, isTargeted() ? "targeted at class " + target : "untargeted");
    }

    /**
     * What happened to one image. Labels are class indices; confidences are the model's softmax
     * probability of the label it gives. {@code pixelsChanged} counts the pixels that moved by at
     * least half a grey level of an 8-bit image over the pixel range ({@code (high - low) / 510}):
     * those that would show.
     */
    public record Outcome(int trueLabel, int originalLabel, double originalConfidence, int newLabel, double newConfidence, double linf,
            double l2, int pixelsChanged, boolean success) {}

    /** Every image's outcome, in order. */
    public record Result(GradientSignAttack attack, List<Outcome> outcomes) {
        public Result {
            outcomes = List.copyOf(outcomes);
        }

        public int successes() {
            return (int) outcomes.stream().filter(Outcome::success).count();
        }

        /** The fraction of images on which the attack succeeded. */
        public double successRate() {
            return outcomes.isEmpty() ? 0 : (double) successes() / outcomes.size();
        }
    }

    /**
     * Attacks {@code images} (N, sample...) whose true classes are {@code labels}, writing the
     * adversarial images into {@code adversarial} (same shape; may be {@code images} itself to
     * attack in place). Success: untargeted, the model's label is no longer the true one;
     * targeted, it is the target.
     */
    public Result run(Model model, Ops ops, Tensor images, int[] labels, Tensor adversarial) {
        try (ClassifierGradient net = new ClassifierGradient(model, ops, "GradientSignAttack")) {
            net.checkImages(images, "GradientSignAttack", "images");
            if (!adversarial.shape().equals(images.shape())) {
                throw new IllegalArgumentException("GradientSignAttack: the output tensor " + adversarial.shape()
                        + " must have the images' shape " + images.shape());
            }
            int n = images.shape().intDim(0);
            if (labels.length != n) {
                throw new IllegalArgumentException("GradientSignAttack: " + n + " images but " + labels.length + " labels");
            }
            int classes = net.classes();
            for (int i = 0; i < n; i++) {
                if (labels[i] < 0 || labels[i] >= classes) {
                    throw new IllegalArgumentException("GradientSignAttack: label " + labels[i] + " of image " + i
                            + " is not a class of the model [0, " + classes + ")");
                }
            }
            if (target >= classes) {
                throw new IllegalArgumentException("GradientSignAttack: target class " + target + " is not a class of the model [0, "
                        + classes + ")");
            }
            int size = net.sampleSize();
            checkRange(images, size);
            List<Outcome> outcomes = new ArrayList<>(n);
            int rows = Math.min(batchSize, n);
            int floats = Math.multiplyExact(rows, size); // one batch of pixels on the heap: fails clearly if it cannot fit an array
            float[] original = new float[floats];
            float[] x = new float[floats];
            float[] grad = new float[floats];
            double[] probsBefore = new double[rows * classes];
            double[] probs = new double[rows * classes];
            int[] lossClass = new int[rows];
            for (int from = 0; from < n; from += rows) {
                int count = Math.min(rows, n - from);
                long offset = (long) from * size;
                MemorySegment.copy(images.segment(), ValueLayout.JAVA_FLOAT, offset * Float.BYTES, original, 0, count * size);
                System.arraycopy(original, 0, x, 0, count * size);
                for (int i = 0; i < count; i++) {
                    lossClass[i] = isTargeted() ? target : labels[from + i];
                }
                // Untargeted: climb the true label's loss; targeted: descend the target's.
                float direction = isTargeted() ? -1f : 1f;
                for (int s = 0; s < steps; s++) {
                    net.lossGradient(x, count, lossClass, grad, s == 0 ? probsBefore : probs);
                    step(original, x, grad, count * size, direction);
                }
                net.probabilities(x, count, probs);
                MemorySegment.copy(x, 0, adversarial.segment(), ValueLayout.JAVA_FLOAT, offset * Float.BYTES, count * size);
                for (int i = 0; i < count; i++) {
                    outcomes.add(outcome(net, labels[from + i], i, original, x, size, probsBefore, probs));
                }
            }
            return new Result(this, outcomes);
        }
    }

    /** One projected sign step on {@code n} pixels: x = clip(x + direction * stepSize * sign(grad)) into the budget and the range. */
    private void step(float[] original, float[] x, float[] grad, int n, float direction) {
        for (int j = 0; j < n; j++) {
            double moved = x[j] + direction * stepSize * Math.signum(grad[j]);
            double lo = Math.max(low, original[j] - epsilon);
            double hi = Math.min(high, original[j] + epsilon);
            float v = (float) Math.min(hi, Math.max(lo, moved));
            if (Math.abs((double) v - original[j]) > epsilon) {
                v = Math.nextAfter(v, original[j]); // rounding to float overshot the budget by part of an ulp: never exceed it
            }
            x[j] = v;
        }
    }

    private Outcome outcome(ClassifierGradient net, int label, int i, float[] original, float[] x, int size, double[] before, double[] after) {
        int classes = net.classes();
        int was = net.argmax(before, i);
        int now = net.argmax(after, i);
        double linf = 0;
        double sq = 0;
        int changed = 0;
        double visible = (high - low) / 510.0;
        for (int j = i * size; j < (i + 1) * size; j++) {
            double d = Math.abs((double) x[j] - original[j]);
            linf = Math.max(linf, d);
            sq += d * d;
            changed += d >= visible ? 1 : 0;
        }
        boolean success = isTargeted() ? now == target : now != label;
        return new Outcome(label, was, before[i * classes + was], now, after[i * classes + now], linf, Math.sqrt(sq), changed, success);
    }

    private void checkRange(Tensor images, int size) {
        for (long j = 0; j < images.size(); j++) {
            float v = images.getFlat(j);
            if (!(v >= low && v <= high)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "GradientSignAttack: image %d has pixel %d at %s, outside the pixel range [%s, %s]; set pixelRange to the data's range",
                        j / size, j % size, v, low, high));
            }
        }
    }
}
