package dev.deepnet.adversarial;

import dev.deepnet.infer.BatchPlans;
import dev.deepnet.infer.ClassOutput;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Softmax;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A classifier's class probabilities and the gradient of {@code -log p(class)} with respect to its
 * input, for a few samples at a time: what every attack and fooling-image search steps along.
 * Runs input-gradient plans ({@link BatchPlans#forInputGradient}), so the model is only read and
 * no parameter gradient is computed; one plan per batch size asked for, the last few kept.
 *
 * <p>The model's output is read by a {@link ClassOutput}: raw scores (softmax taken in double
 * precision) or, when its last layer is {@link Softmax}, probabilities.
 */
final class ClassifierGradient implements AutoCloseable {

    /** Plans kept: the attacks ask for a full batch and a remainder. */
    private static final int MAX_PLANS = 4;

    private final Model model;
    private final ClassOutput output;
    private final int classes;
    private final int sampleSize;
    private final BatchPlans plans;
    private float[] scratch = new float[0]; // outputs or output gradients of the last batch

    ClassifierGradient(Model model, Ops ops, String who) {
        try {
            this.output = ClassOutput.of(model, java.util.List.of());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(who + ": " + e.getMessage(), e);
        }
        this.model = model;
        this.classes = output.classes();
        this.sampleSize = Math.toIntExact(model.sampleShape().size());
        this.plans = BatchPlans.forInputGradient(model, ops, MAX_PLANS);
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

    /** Class probabilities of {@code count} samples held in {@code x}, row after row: {@code probs[i * classes + c]}. */
    void probabilities(float[] x, int count, double[] probs) {
        Plan plan = plans.plan(count);
        MemorySegment.copy(x, 0, plan.input().segment(), ValueLayout.JAVA_FLOAT, 0, count * sampleSize);
        plan.forward(false);
        readProbabilities(plan.output(), count, probs);
    }

    /**
     * {@code grad} (row after row, like {@code x}) becomes the gradient of {@code -log p(cls[i])}
     * with respect to sample i, and {@code probs} the probabilities of {@code x} as it was.
     */
    void lossGradient(float[] x, int count, int[] cls, float[] grad, double[] probs) {
        Plan plan = plans.plan(count);
        MemorySegment.copy(x, 0, plan.input().segment(), ValueLayout.JAVA_FLOAT, 0, count * sampleSize);
        plan.forward(true);
        readProbabilities(plan.output(), count, probs);
        output.negativeLogProbabilityGradient(probs, count, cls, scratch);
        MemorySegment.copy(scratch, 0, plan.outputGradient().segment(), ValueLayout.JAVA_FLOAT, 0, count * classes);
        plan.backward();
        MemorySegment.copy(plan.inputGradient().segment(), ValueLayout.JAVA_FLOAT, 0, grad, 0, count * sampleSize);
    }

    private void readProbabilities(Tensor out, int count, double[] probs) {
        if (scratch.length != count * classes) {
            scratch = new float[count * classes];
        }
        MemorySegment.copy(out.segment(), ValueLayout.JAVA_FLOAT, 0, scratch, 0, count * classes);
        output.toProbabilities(scratch, count, probs);
    }

    /** The most probable class of sample i. */
    int argmax(double[] probs, int i) {
        return ClassOutput.argmax(probs, i * classes, classes);
    }

    @Override
    public void close() {
        plans.close();
    }
}
