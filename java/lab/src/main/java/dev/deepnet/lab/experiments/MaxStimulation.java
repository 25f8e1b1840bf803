package dev.deepnet.lab.experiments;

import dev.deepnet.lab.report.Charts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * For each hidden neuron of the trained autoencoder, the unit-norm input that stimulates it most,
 * drawn as a shadow. A sigmoid neuron's input is w·x - T; over inputs of norm 1 it is largest for
 * x = w / |w| (Cauchy–Schwarz), so the picture is the neuron's normalised weights.
 */
public final class MaxStimulation implements Experiment {

    static final int SEEDS = 5;

    /** x = w / |w| for each hidden neuron: rows of 10. */
    static float[][] stimuli(Autoencoder.Trained t) {
        float[][] w = Neurons.matrix(t.encoder());
        for (float[] row : w) {
            double norm = 0;
            for (float v : row) {
                norm += (double) v * v;
            }
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) (row[i] / Math.sqrt(norm));
            }
        }
        return w;
    }

    /**
     * Reads a stimulus as a shadow: "short", "medium" or "tall" when it is high on a prefix of the
     * neurons from the ground and low above (like a real shadow), else "mixed".
     */
    static String shape(float[] x) {
        int best = -1;
        double bestScore = 0;
        for (int h = 1; h < x.length; h++) {
            double below = 0;
            double above = 0;
            for (int i = 0; i < h; i++) {
                below += x[i];
            }
            for (int i = h; i < x.length; i++) {
                above += x[i];
            }
            double score = below / h - above / (x.length - h);
            if (score > bestScore) {
                bestScore = score;
                best = h;
            }
        }
        // A shadow-like stimulus is clearly higher below its edge than above it.
        if (best < 0 || bestScore < 0.35) {
            return "mixed";
        }
        return best <= 4 ? "short" : best <= 7 ? "medium" : "tall";
    }

    @Override
    public String name() {
        return "max-stimulation";
    }

    @Override
    public String title() {
        return "What stimulates each hidden neuron most";
    }

    @Override
    public Result run(Path dir) throws IOException {
        Table.Builder table = Table.builder("The most stimulating unit-norm input of each hidden neuron, by seed",
                "seed", "neuron", "input (neuron 0 = ground ... 9)", "reads as");
        List<Path> figures = new ArrayList<>();
        int shadowLike = 0;
        int mixed = 0;
        for (int seed = 1; seed <= SEEDS; seed++) {
            try (Autoencoder.Trained t = Autoencoder.train(seed)) {
                float[][] x = stimuli(t);
                List<Charts.Series> series = new ArrayList<>();
                for (int n = 0; n < x.length; n++) {
                    double[] levels = new double[10];
                    double[] values = new double[10];
                    StringBuilder cells = new StringBuilder();
                    for (int i = 0; i < 10; i++) {
                        levels[i] = i;
                        values[i] = x[n][i];
                        cells.append(String.format(Locale.ROOT, "%+.2f ", x[n][i]));
                    }
                    String shape = shape(x[n]);
                    if (shape.equals("mixed")) {
                        mixed++;
                    } else {
                        shadowLike++;
                    }
                    table.row(seed, n, cells.toString().trim(), shape);
                    series.add(new Charts.Series("neuron " + n + " (" + shape + ")", levels, values));
                }
                if (seed == 1) {
                    Path png = dir.resolve("max-stimulation.png");
                    Charts.lines(png, "Most stimulating input per hidden neuron (seed 1)", "input neuron (height level)",
                            "input value (unit norm)", series);
                    figures.add(png);
                }
            }
        }
        String measured = String.format(Locale.ROOT, "Over %d seeds, %d of the %d hidden neurons respond most to a shadow-like input"
                + " (high from the ground up to an edge, low above) and %d to a mixed pattern with no single edge: the code is"
                + " spread across the neurons, not one neuron per animal.", SEEDS, shadowLike, SEEDS * 3, mixed);
        return new Result(name(), title(), "Drawing the input that most stimulates each hidden neuron, the lecture saw one that"
                + " looked like a short animal's shadow and two that looked random: \"encoded generalization\".", measured,
                mixed > 0, figures, List.of(table.build()));
    }
}
