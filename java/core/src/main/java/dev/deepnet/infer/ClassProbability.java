package dev.deepnet.infer;

import java.util.Locale;

/** One class of a {@link Classification}: its index in the model's output, its label and its probability. */
public record ClassProbability(int index, String label, float probability) {

    /** {@code "Trouser 0.97"}: the label and the probability to two decimals. */
    @Override
    public String toString() {
        return label + " " + String.format(Locale.ROOT, "%.2f", probability);
    }
}
