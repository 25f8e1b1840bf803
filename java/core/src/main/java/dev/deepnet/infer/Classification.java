package dev.deepnet.infer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What a classifier says about one sample: a probability per class (summing to 1), the classes
 * ranked, with their labels, and how the input was converted to fit the model, if it was (an
 * image of another size or colour: {@link #conversions()}). Immutable.
 */
public final class Classification {

    private final float[] probabilities; // owned: never handed out
    private final List<String> labels; // one per class
    private final List<String> conversions;

    Classification(float[] probabilities, List<String> labels, List<String> conversions) {
        if (probabilities.length != labels.size()) {
            throw new IllegalArgumentException(probabilities.length + " probabilities for " + labels.size() + " labels");
        }
        this.probabilities = probabilities;
        this.labels = labels;
        this.conversions = List.copyOf(conversions);
    }

    /** This classification, noting that its input was converted as {@code conversions} say. */
    /** This classification, saying how its input was made from what was given (an image resized, converted to grey). */
    public Classification withConversions(List<String> conversions) {
        return conversions.isEmpty() ? this : new Classification(probabilities, labels, conversions);
    }

    /** How many classes the model tells apart. */
    public int classes() {
        return probabilities.length;
    }

    /** The probability of class {@code c}. */
    public float probability(int c) {
        return probabilities[c];
    }

    /** Every class's probability, by class index (a copy). */
    public float[] probabilities() {
        return probabilities.clone();
    }

    /** The label of class {@code c}: the name the model file gives it, or {@code "class c"}. */
    public String label(int c) {
        return labels.get(c);
    }

    /** The most probable class; of classes equally probable, the one with the lowest index. */
    public ClassProbability best() {
        int c = ClassOutput.argmax(probabilities, 0, probabilities.length);
        return new ClassProbability(c, labels.get(c), probabilities[c]);
    }

    /**
     * The {@code k} most probable classes, most probable first (ties: lower index first); all of
     * them when the model has fewer than {@code k}.
     */
    public List<ClassProbability> top(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        int[] order = ClassOutput.ranking(probabilities, 0, probabilities.length, Math.min(k, probabilities.length));
        List<ClassProbability> out = new ArrayList<>(order.length);
        for (int c : order) {
            out.add(new ClassProbability(c, labels.get(c), probabilities[c]));
        }
        return List.copyOf(out);
    }

    /**
     * How the input was made to fit the model, one note per change (e.g. {@code "resized 640x480 to
     * 28x28 (shorter side to 28, centre crop)"}, {@code "converted colour to grey"}); empty when it
     * was taken as it was, and always for inputs given as floats.
     */
    public List<String> conversions() {
        return conversions;
    }

    /** Whether the input had to be converted to fit the model ({@link #conversions()} not empty). */
    public boolean converted() {
        return !conversions.isEmpty();
    }

    /** {@code "Trouser 0.97, Dress 0.01, ..."}: the five most probable classes. */
    @Override
    public String toString() {
        return top(5).stream().map(ClassProbability::toString).collect(Collectors.joining(", "));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Classification c && Arrays.equals(probabilities, c.probabilities) && labels.equals(c.labels)
                && conversions.equals(c.conversions);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(probabilities) * 31 + conversions.hashCode();
    }
}
