package dev.deepnet.occlusion;

import dev.deepnet.infer.ClassOutput;

/**
 * What the occlusion searches ask of a classifier: class probabilities for a batch of images.
 * A {@link dev.deepnet.infer.Classifier} runs a {@link dev.deepnet.nn.Model} as one
 * ({@code classifier::probabilities}); tests pass hand-written functions.
 */
@FunctionalInterface
public interface ImageClassifier {

    /**
     * Probabilities for {@code count} images laid out one after another in {@code images}: a
     * {@code (count, classes)} row-major array, each row summing to 1.
     */
    float[] probabilities(float[] images, int count);

    /** The most probable class of each row of a {@code (count, classes)} array; ties go to the lower class. */
    static int[] labels(float[] probabilities, int count) {
        classes(probabilities, count); // the same message as every other check of a classifier's answer
        return ClassOutput.argmax(probabilities, count);
    }

    /** Classes per row of a {@code (count, classes)} array; throws when the length does not divide. */
    static int classes(float[] probabilities, int count) {
        if (count < 1 || probabilities.length == 0 || probabilities.length % count != 0) {
            throw new IllegalArgumentException("a classifier returned " + probabilities.length + " probabilities for " + count
                    + " images; expected count x classes");
        }
        return probabilities.length / count;
    }
}
