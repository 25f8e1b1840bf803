package dev.deepnet.infer;

import dev.deepnet.nn.Model;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A model used as a classifier on one {@link Ops}: batches of samples in, probabilities and
 * labelled classifications out. The output is read by a {@link ClassOutput} (a final
 * {@link dev.deepnet.nn.Softmax} respected, never applied twice), batches run on
 * {@link BatchPlans#forInference inference plans} padded to powers of two, at most
 * {@code maxPlans} of them kept.
 *
 * <p>Single-threaded, like the Ops it runs on; for many threads use a {@link Predictor}. The model
 * is only read; closing this frees the plans, not the model or the ops.
 */
public final class Classifier implements AutoCloseable {

    /** Plans kept by default: every power of two up to 128. */
    public static final int DEFAULT_MAX_PLANS = 8;

    private final ClassOutput output;
    private final BatchPlans plans;
    private final int sampleSize;

    /** A classifier with numbered labels, batches of up to {@code maxBatch}, {@value #DEFAULT_MAX_PLANS} plans at most. */
    public Classifier(Model model, Ops ops, int maxBatch) {
        this(model, List.of(), ops, maxBatch, DEFAULT_MAX_PLANS);
    }

    /**
     * A classifier whose classes are {@code labels} (one per class, or empty for numbered ones)
     * that runs batches of up to {@code maxBatch} on at most {@code maxPlans} plans.
     *
     * @throws IllegalArgumentException when the model does not output class scores (see
     *     {@link ClassOutput#of}), or a size is not positive
     */
    public Classifier(Model model, List<String> labels, Ops ops, int maxBatch, int maxPlans) {
        this.output = ClassOutput.of(model, labels);
        this.plans = BatchPlans.forInference(model, ops, maxBatch, maxPlans);
        this.sampleSize = Math.toIntExact(model.sampleShape().size());
    }

    /** How this classifier reads the model's output: classes, labels, softmax or not. */
    public ClassOutput output() {
        return output;
    }

    public int classes() {
        return output.classes();
    }

    public List<String> labels() {
        return output.labels();
    }

    /** The shape of one input sample, e.g. (1, 28, 28). */
    public Shape sampleShape() {
        return plans.model().sampleShape();
    }

    /**
     * Probabilities for {@code count} samples laid out one after another in {@code samples}: a
     * {@code (count, classes)} row-major array, each row summing to 1.
     */
    public float[] probabilities(float[] samples, int count) {
        if (count < 1 || samples.length != (long) count * sampleSize) {
            throw new IllegalArgumentException("for " + count + " samples of " + sampleShape() + " expected "
                    + (long) count * sampleSize + " floats, got " + samples.length);
        }
        float[] p = new float[count * output.classes()];
        plans.run(MemorySegment.ofArray(samples), count, MemorySegment.ofArray(p));
        output.toProbabilities(p, count, p);
        return p;
    }

    /** The classification of one sample ({@code sampleShape().size()} floats). */
    public Classification classify(float[] sample) {
        return output.classification(probabilities(sample, 1), 0);
    }

    /** The classifications of {@code count} samples laid out one after another. */
    public List<Classification> classify(float[] samples, int count) {
        return output.classifications(probabilities(samples, count), count);
    }

    /** The most probable class of each of {@code count} samples. */
    public int[] predictedClasses(float[] samples, int count) {
        return ClassOutput.argmax(probabilities(samples, count), count);
    }

    /** How many plans were compiled so far (see {@link BatchPlans#compiled()}). */
    public long plansCompiled() {
        return plans.compiled();
    }

    @Override
    public void close() {
        plans.close();
    }
}
