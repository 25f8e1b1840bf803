package dev.deepnet.adversarial;

import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Softmax;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * A classifier's class probabilities and the gradient of {@code -log p(class)} with respect to its
 * input, for a few samples at a time: what every attack and fooling-image search steps along.
 * Runs input-gradient plans ({@link Model#compileForInputGradient}), so the model is only read and
 * no parameter gradient is computed. One plan per batch size asked for, compiled on first use.
 *
 * <p>The model's output must be class scores (N, classes): raw scores (softmax is taken here, in
 * double precision) or, when its last layer is {@link Softmax}, probabilities.
 */
final class ClassifierGradient implements AutoCloseable {

    private final Model model;
    private final Ops ops;
    private final int classes;
    private final int sampleSize;
    private final boolean probabilityOutput; // the last layer is Softmax: the output already is p
    private final Map<Integer, Plan> plans = new HashMap<>();

    ClassifierGradient(Model model, Ops ops, String who) {
        Shape out = model.shapes(1)[model.output().index()];
        if (out.rank() != 2 || out.dim(1) < 2) {
            throw new IllegalArgumentException(who + ": the model's output for one sample is " + out
                    + "; it needs class scores (1, classes) with at least 2 classes");
        }
        this.model = model;
        this.ops = ops;
        this.classes = out.intDim(1);
        this.sampleSize = Math.toIntExact(model.sampleShape().size());
        this.probabilityOutput = !model.output().isInput() && model.output().layer() instanceof Softmax;
    }

    int classes() {
        return classes;
    }

    int sampleSize() {
        return sampleSize;
    }

    /** Throws unless {@code images} is (N, sample...) for this model's sample shape. */
    void checkImages(Tensor images, String who, String what) {
        Shape s = images.shape();
        if (s.rank() != model.sampleShape().rank() + 1 || !s.sample().equals(model.sampleShape())) {
            throw new IllegalArgumentException(who + ": " + what + " " + s + " do not fit the model, which takes (N, "
                    + model.sampleShape().toString().substring(1));
        }
    }

    private Plan plan(int count) {
        return plans.computeIfAbsent(count, c -> model.compileForInputGradient(ops, c));
    }

    /** Class probabilities of {@code count} samples held in {@code x}, row after row: {@code probs[i * classes + c]}. */
    void probabilities(float[] x, int count, double[] probs) {
        Plan plan = plan(count);
        MemorySegment.copy(x, 0, plan.input().segment(), ValueLayout.JAVA_FLOAT, 0, count * sampleSize);
        plan.forward(false);
        readProbabilities(plan.output(), count, probs);
    }

    /**
     * {@code grad} (row after row, like {@code x}) becomes the gradient of {@code -log p(cls[i])}
     * with respect to sample i, and {@code probs} the probabilities of {@code x} as it was.
     */
    void lossGradient(float[] x, int count, int[] cls, float[] grad, double[] probs) {
        Plan plan = plan(count);
        MemorySegment.copy(x, 0, plan.input().segment(), ValueLayout.JAVA_FLOAT, 0, count * sampleSize);
        plan.forward(true);
        readProbabilities(plan.output(), count, probs);
        Tensor dOut = plan.outputGradient();
        for (int i = 0; i < count; i++) {
            for (int c = 0; c < classes; c++) {
                double g;
                if (probabilityOutput) {
                    // d(-log p_k)/dp = -1/p_k at k, 0 elsewhere; the Softmax layer's backward turns it into p - onehot(k).
                    // The floor keeps it finite when p_k underflowed to 0.
                    g = c == cls[i] ? -1.0 / Math.max(probs[i * classes + c], Float.MIN_NORMAL) : 0;
                } else {
                    g = probs[i * classes + c] - (c == cls[i] ? 1 : 0); // d(-log softmax(s)_k)/ds = p - onehot(k)
                }
                dOut.setFlat((long) i * classes + c, (float) g);
            }
        }
        plan.backward();
        MemorySegment.copy(plan.inputGradient().segment(), ValueLayout.JAVA_FLOAT, 0, grad, 0, count * sampleSize);
    }

    private void readProbabilities(Tensor out, int count, double[] probs) {
        for (int i = 0; i < count; i++) {
            long base = (long) i * classes;
            if (probabilityOutput) {
                for (int c = 0; c < classes; c++) {
                    probs[i * classes + c] = out.getFlat(base + c);
                }
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, out.getFlat(base + c));
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                double e = Math.exp(out.getFlat(base + c) - max);
                probs[i * classes + c] = e;
                sum += e;
            }
            for (int c = 0; c < classes; c++) {
                probs[i * classes + c] /= sum;
            }
        }
    }

    /** The most probable class of sample i. */
    int argmax(double[] probs, int i) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (probs[i * classes + c] > probs[i * classes + best]) {
                best = c;
            }
        }
        return best;
    }

    @Override
    public void close() {
        for (Plan p : plans.values()) {
            p.close();
        }
        plans.clear();
    }
}
