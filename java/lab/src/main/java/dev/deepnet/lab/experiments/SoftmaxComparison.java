package dev.deepnet.lab.experiments;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.train.BinaryCrossEntropy;
import dev.deepnet.train.Sgd;
import dev.deepnet.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Probabilities from output neurons two ways: the lecture's — each sigmoid output divided by the
 * sum of all outputs — and the standard exponential softmax of the neurons' inputs (before the
 * sigmoid). A net of 3 sigmoid neurons reads the shadows; both turn its outputs into top-k lists.
 */
public final class SoftmaxComparison implements Experiment {

    @Override
    public String name() {
        return "softmax";
    }

    @Override
    public String title() {
        return "From output neurons to probabilities: divide by the sum, or softmax";
    }

    /** z_i / sum z. */
    static double[] normalised(float[] z) {
        double sum = 0;
        for (float v : z) {
            sum += v;
        }
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = z[i] / sum;
        }
        return p;
    }

    /** e^s_i / sum e^s, with s the neurons' inputs (the logits of the sigmoid outputs z). */
    static double[] softmax(float[] z) {
        double[] s = new double[z.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < z.length; i++) {
            double zi = Math.min(Math.max(z[i], 1e-7), 1 - 1e-7);
            s[i] = Math.log(zi / (1 - zi));
            max = Math.max(max, s[i]);
        }
        double sum = 0;
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.exp(s[i] - max);
            sum += s[i];
        }
        for (int i = 0; i < s.length; i++) {
            s[i] /= sum;
        }
        return s;
    }

    /** "giraffe 0.71, zebra 0.22, cheetah 0.07". */
    static String topK(double[] p) {
        Integer[] order = {0, 1, 2};
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        List<String> parts = new ArrayList<>();
        for (int i : order) {
            parts.add(String.format(Locale.ROOT, "%s %.2f", Shadows.ANIMALS.get(i), p[i]));
        }
        return String.join(", ", parts);
    }

    static int[] ranking(double[] p) {
        Integer[] order = {0, 1, 2};
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    @Override
    public Result run(Path dir) throws IOException {
        int n = 60;
        float[] x = Shadows.shadows(n, 7);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = Shadows.animal(i);
        }
        Dense outputs = new Dense(10, 3, Activation.SIGMOID);
        Table.Builder table = Table.builder("Top-k lists for test shadows", "shadow", "outputs z", "z / sum z (lecture)",
                "softmax (standard)");
        boolean sameRanking = true;
        double sumPeakLecture = 0;
        double sumPeakSoftmax = 0;
        try (ReferenceOps ops = new ReferenceOps(); Model net = Model.sequential(Shape.of(10), 3, outputs);
             Dataset data = Dataset.classification(x, Shape.of(10), labels, 3)) {
            Trainer.builder(net, ops, new BinaryCrossEntropy(), new Sgd(2.0)).batchSize(20).epochs(100).seed(1).build().fit(data);
            float[] test = Shadows.shadows(6, 99);
            for (int s = 0; s < 6; s++) {
                float[] z = Neurons.layer(outputs, Arrays.copyOfRange(test, s * 10, s * 10 + 10));
                double[] lecture = normalised(z);
                double[] standard = softmax(z);
                sameRanking &= Arrays.equals(ranking(lecture), ranking(standard));
                sumPeakLecture += Arrays.stream(lecture).max().orElse(0);
                sumPeakSoftmax += Arrays.stream(standard).max().orElse(0);
                table.row(Shadows.ANIMALS.get(Shadows.animal(s)),
                        String.format(Locale.ROOT, "%.2f %.2f %.2f", z[0], z[1], z[2]), topK(lecture), topK(standard));
            }
        }
        String measured = String.format(Locale.ROOT, "On six test shadows both ways rank the animals %s. Dividing by the sum is"
                + " gentler: its top probability averaged %.2f, the exponential softmax's %.2f — the softmax sharpens the winner,"
                + " and stays defined when every sigmoid output is near 0.", sameRanking ? "identically" : "differently",
                sumPeakLecture / 6, sumPeakSoftmax / 6);
        return new Result(name(), title(), "Output neurons can be read as probabilities by dividing each by the sum of all, giving"
                + " ranked lists like \"giraffe 0.71, zebra 0.22\"; the standard way is the exponential softmax.", measured,
                sameRanking, List.of(), List.of(table.build()));
    }
}
