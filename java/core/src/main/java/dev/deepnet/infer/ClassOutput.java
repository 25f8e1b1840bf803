package dev.deepnet.infer;

import dev.deepnet.nn.Model;
import dev.deepnet.nn.Softmax;
import dev.deepnet.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * How to read a model's output as classes: how many, their labels, and whether the output already
 * is probabilities. A model whose last layer is {@link Softmax} outputs probabilities, and they
 * are taken as they are; any other model outputs raw scores (logits), which go through a softmax
 * here, in double precision. So a softmax is applied exactly once, whichever way the model was
 * built. Also the ranking rules every classifier shares: argmax (ties to the lower class), the
 * top k, and whether a label is among the top k.
 *
 * <p>Immutable and thread-safe; it reads the model's shape once and never runs it. {@link Classifier}
 * runs a model on one {@code Ops}, {@link Predictor} on a pool of them.
 */
public final class ClassOutput {

    private final int classes;
    private final List<String> labels;
    private final boolean labelled;
    private final boolean outputsProbabilities;

    private ClassOutput(int classes, List<String> labels, boolean labelled, boolean outputsProbabilities) {
        this.classes = classes;
        this.labels = labels;
        this.labelled = labelled;
        this.outputsProbabilities = outputsProbabilities;
    }

    /**
     * The classes of {@code model}, labelled by {@code labels} (one per class) or, when
     * {@code labels} is empty, {@code "class 0"}, {@code "class 1"}, ...
     *
     * @throws IllegalArgumentException when the model's output per sample is not class scores
     *     {@code (1, classes)} with at least 2 classes, or the labels are not one per class
     */
    public static ClassOutput of(Model model, List<String> labels) {
        Shape out = model.shapes(1)[model.output().index()];
        if (out.rank() != 2) {
            throw new IllegalArgumentException("a classifier outputs one score per class, but this model's output per sample is "
                    + out.sample());
        }
        if (out.dim(1) < 2) {
            throw new IllegalArgumentException("a classifier needs at least 2 classes, but this model outputs " + out.dim(1)
                    + " score per sample");
        }
        int classes = out.intDim(1);
        if (!labels.isEmpty() && labels.size() != classes) {
            throw new IllegalArgumentException(labels.size() + " class labels for a model that outputs " + classes + " classes");
        }
        List<String> names = labels;
        if (labels.isEmpty()) {
            List<String> numbered = new ArrayList<>(classes);
            for (int c = 0; c < classes; c++) {
                numbered.add("class " + c);
            }
            names = numbered;
        }
        boolean probabilities = !model.output().isInput() && model.output().layer() instanceof Softmax;
        return new ClassOutput(classes, List.copyOf(names), !labels.isEmpty(), probabilities);
    }

    /** {@link #of(Model, List)} with numbered labels. */
    public static ClassOutput of(Model model) {
        return of(model, List.of());
    }

    public int classes() {
        return classes;
    }

    /** One label per class: the names given, or {@code "class c"}. */
    public List<String> labels() {
        return labels;
    }

    /** Whether the classes have names (not only numbers). */
    public boolean labelled() {
        return labelled;
    }

    public String label(int c) {
        return labels.get(c);
    }

    /** Whether the model's last layer is a {@link Softmax}, so its output already is probabilities. */
    public boolean outputsProbabilities() {
        return outputsProbabilities;
    }

    /**
     * The class a user names, by label (any case, surrounding blanks ignored) or by index.
     *
     * @throws IllegalArgumentException naming the valid indices and labels when it is neither
     */
    public int classOf(String given) {
        String g = given.trim();
        if (labelled) {
            for (int c = 0; c < classes; c++) {
                if (labels.get(c).equalsIgnoreCase(g)) {
                    return c;
                }
            }
        }
        try {
            int c = Integer.parseInt(g);
            if (c >= 0 && c < classes) {
                return c;
            }
        } catch (NumberFormatException e) {
            // not an index either: reported below
        }
        throw new IllegalArgumentException(given + " is not a class of the model: give an index in [0, " + classes + ")"
                + (labelled ? " or one of " + String.join(", ", labels) : ""));
    }

    /**
     * The probabilities of {@code count} samples from their outputs ({@code (count, classes)},
     * row-major): copied when the model ends in a softmax, else each row's softmax. {@code outputs}
     * and {@code probabilities} may be the same array.
     */
    public void toProbabilities(float[] outputs, int count, float[] probabilities) {
        checkRows(outputs.length, count, "outputs");
        checkRows(probabilities.length, count, "probabilities");
        double[] row = outputsProbabilities ? null : new double[classes];
        for (int i = 0; i < count; i++) {
            int base = i * classes;
            if (outputsProbabilities) {
                System.arraycopy(outputs, base, probabilities, base, classes);
                continue;
            }
            softmax(outputs, base, row);
            for (int c = 0; c < classes; c++) {
                probabilities[base + c] = (float) row[c];
            }
        }
    }

    /** {@link #toProbabilities(float[], int, float[])} in double precision. */
    public void toProbabilities(float[] outputs, int count, double[] probabilities) {
        checkRows(outputs.length, count, "outputs");
        checkRows(probabilities.length, count, "probabilities");
        double[] row = new double[classes];
        for (int i = 0; i < count; i++) {
            int base = i * classes;
            if (outputsProbabilities) {
                for (int c = 0; c < classes; c++) {
                    probabilities[base + c] = outputs[base + c];
                }
                continue;
            }
            softmax(outputs, base, row);
            System.arraycopy(row, 0, probabilities, base, classes);
        }
    }

    /** exp(s - max) / sum over one row: the max subtracted so no score overflows. */
    private void softmax(float[] scores, int from, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            max = Math.max(max, scores[from + c]);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            out[c] = Math.exp(scores[from + c] - max);
            sum += out[c];
        }
        for (int c = 0; c < classes; c++) {
            out[c] /= sum;
        }
    }

    /**
     * Writes into {@code outputGradient} ({@code (count, classes)}, like the model's output) the
     * gradient of {@code -log p(targets[i])} with respect to the model's output, given the
     * samples' {@code probabilities}: {@code p - onehot(k)} for raw scores; for a model ending in a
     * softmax, {@code -1 / p_k} at {@code k} and 0 elsewhere, which that layer's backward turns into
     * {@code p - onehot(k)}.
     */
    public void negativeLogProbabilityGradient(double[] probabilities, int count, int[] targets, float[] outputGradient) {
        checkRows(probabilities.length, count, "probabilities");
        checkRows(outputGradient.length, count, "outputGradient");
        for (int i = 0; i < count; i++) {
            for (int c = 0; c < classes; c++) {
                int at = i * classes + c;
                double g;
                if (outputsProbabilities) {
                    // The floor keeps it finite when p_k underflowed to 0.
                    g = c == targets[i] ? -1.0 / Math.max(probabilities[at], Float.MIN_NORMAL) : 0;
                } else {
                    g = probabilities[at] - (c == targets[i] ? 1 : 0);
                }
                outputGradient[at] = (float) g;
            }
        }
    }

    private void checkRows(int length, int count, String what) {
        if (count < 0 || (long) count * classes > length) {
            throw new IllegalArgumentException(what + ": " + count + " rows of " + classes + " classes need "
                    + (long) count * classes + " values, got " + length);
        }
    }

    /** The classification of row {@code row} of {@code probabilities} ({@code (rows, classes)}). */
    public Classification classification(float[] probabilities, int row) {
        checkRows(probabilities.length, row + 1, "probabilities");
        float[] p = new float[classes];
        System.arraycopy(probabilities, row * classes, p, 0, classes);
        return new Classification(p, labels, List.of());
    }

    /** The classifications of {@code count} rows of {@code probabilities}. */
    public List<Classification> classifications(float[] probabilities, int count) {
        List<Classification> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(classification(probabilities, i));
        }
        return List.copyOf(out);
    }

    // ---------------------------------------------------------------- ranking

    /** The index of the largest of {@code values[from .. from + length)}, relative to {@code from}; ties to the lower. */
    public static int argmax(float[] values, int from, int length) {
        return argmax(MemorySegment.ofArray(values), from, length);
    }

    /**
     * {@link #argmax(float[], int, int)} over floats in memory ({@code from} counts floats), so a
     * tensor's rows are read where they are ({@code tensor.segment()}), without a copy.
     */
    public static int argmax(MemorySegment values, long from, int length) {
        int best = 0;
        float top = values.getAtIndex(ValueLayout.JAVA_FLOAT, from);
        for (int c = 1; c < length; c++) {
            float v = values.getAtIndex(ValueLayout.JAVA_FLOAT, from + c);
            if (v > top) {
                best = c;
                top = v;
            }
        }
        return best;
    }

    /** {@link #argmax(float[], int, int)} for doubles. */
    public static int argmax(double[] values, int from, int length) {
        int best = 0;
        for (int c = 1; c < length; c++) {
            if (values[from + c] > values[from + best]) {
                best = c;
            }
        }
        return best;
    }

    /** The argmax of each row of a {@code (count, classes)} array; throws when the length does not divide. */
    public static int[] argmax(float[] rows, int count) {
        if (count < 1 || rows.length == 0 || rows.length % count != 0) {
            throw new IllegalArgumentException(rows.length + " values cannot be " + count + " rows of classes");
        }
        int classes = rows.length / count;
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = argmax(rows, i * classes, classes);
        }
        return out;
    }

    /**
     * The {@code k} classes with the largest values in {@code values[from .. from + length)},
     * largest first, ties to the lower class (a partial selection: k passes, no sort).
     */
    static int[] ranking(float[] values, int from, int length, int k) {
        int[] out = new int[k];
        boolean[] taken = new boolean[length];
        for (int r = 0; r < k; r++) {
            int best = -1;
            for (int c = 0; c < length; c++) {
                if (!taken[c] && (best < 0 || values[from + c] > values[from + best])) {
                    best = c;
                }
            }
            taken[best] = true;
            out[r] = best;
        }
        return out;
    }

    /**
     * Whether class {@code label} is among the {@code k} largest of {@code values[from .. from + length)}.
     * Ties count against it: a label tied with the k-th value is outside (the strict reading of
     * top-1 and top-5 error).
     */
    public static boolean inTopK(float[] values, int from, int length, int label, int k) {
        return inTopK(MemorySegment.ofArray(values), from, length, label, k);
    }

    /** {@link #inTopK(float[], int, int, int, int)} over floats in memory ({@code from} counts floats). */
    public static boolean inTopK(MemorySegment values, long from, int length, int label, int k) {
        float own = values.getAtIndex(ValueLayout.JAVA_FLOAT, from + label);
        int atLeastAsHigh = 0;
        for (int c = 0; c < length; c++) {
            if (c != label && values.getAtIndex(ValueLayout.JAVA_FLOAT, from + c) >= own) {
                atLeastAsHigh++;
            }
        }
        return atLeastAsHigh < k;
    }

    @Override
    public String toString() {
        return classes + " classes" + (labelled ? " " + labels : "") + (outputsProbabilities ? ", output already softmaxed" : "");
    }
}
