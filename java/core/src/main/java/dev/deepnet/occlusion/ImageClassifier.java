package dev.deepnet.occlusion;

/**
 * What the occlusion searches ask of a classifier: class probabilities for a batch of images.
 * {@link ModelClassifier} runs a {@link dev.deepnet.nn.Model}; tests pass hand-written functions.
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
        int classes = classes(probabilities, count);
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (probabilities[i * classes + c] > probabilities[i * classes + best]) {
                    best = c;
                }
            }
            out[i] = best;
        }
        return out;
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
