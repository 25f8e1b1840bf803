package dev.deepnet.spark;

import java.io.Serial;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One sample's classification as a Java bean, the element of the typed path
 * ({@link DatasetClassifier#classify(org.apache.spark.sql.Dataset)}; {@link #ENCODER} is its
 * Spark encoder): the predicted class's index and label, and every class's probability.
 */
public final class Prediction implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Spark's encoder for predictions: columns {@code index}, {@code label}, {@code probabilities}. */
    public static final org.apache.spark.sql.Encoder<Prediction> ENCODER = org.apache.spark.sql.Encoders.bean(Prediction.class);

    private int index;
    private String label;
    private float[] probabilities;

    /** For Spark's bean encoder. */
    public Prediction() {}

    public Prediction(int index, String label, float[] probabilities) {
        this.index = index;
        this.label = label;
        this.probabilities = probabilities;
    }

    public int getIndex() {
        return index;
    }

    public void setIndex(int index) {
        this.index = index;
    }

    public String getLabel() {
        return label;
    }

    public void setLabel(String label) {
        this.label = label;
    }

    /** The probabilities, by class index (the array itself: a bean, not a defensive copy). */
    public float[] getProbabilities() {
        return probabilities;
    }

    public void setProbabilities(float[] probabilities) {
        this.probabilities = probabilities;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prediction p && index == p.index && Objects.equals(label, p.label) && Arrays.equals(probabilities, p.probabilities);
    }

    @Override
    public int hashCode() {
        return Objects.hash(index, label) * 31 + Arrays.hashCode(probabilities);
    }

    @Override
    public String toString() {
        return index + " (" + label + ") " + Arrays.toString(probabilities);
    }
}
