package dev.deepnet.lab.experiments;

import dev.deepnet.lab.report.Charts;
import dev.deepnet.lab.report.NetworkDrawing;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.MeanSquaredError;
import dev.deepnet.train.Sgd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.IntStream;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Knockout: a deep net wide enough to learn is pruned one neuron per hidden layer at a time,
 * retrained after each cut, down to a few neurons per layer; then a net that narrow is trained
 * from scratch. The net is the deep-narrow experiment's (5 hidden layers of sigmoid neurons, the
 * shadows, plain backprop on squared error); "learned" means its error fell below
 * {@link #CLIFF}. Which neuron dies is drawn at random (seeded), as in the lecture's knockout.
 *
 * <p>The narrow net from scratch is compared at equal effort — as many iterations as the wide
 * net and all its retrains took together, generous to it since its iterations are cheaper — and
 * at a large fixed limit, so the report shows both how often it gets stuck and for how long.
 */
public final class Knockout implements Experiment {

    static final int DEPTH = 5;
    static final int WIDE = 10;
    static final int NARROW = 2;
    static final int SHADOWS = 30;
    static final double CLIFF = 0.05;
    static final double RATE = 2.0;
    static final int SEEDS = 20;
    static final int WIDE_ITERATIONS = 10_000;
    static final int RETRAIN_ITERATIONS = 4_000;
    static final int SCRATCH_ITERATIONS = 30_000;

    /** A sequential sigmoid net's parameters as plain arrays: per layer, weights (out, in) row-major and biases. */
    record Weights(int[] widths, List<float[]> weights, List<float[]> biases) {
        int layers() {
            return widths.length - 1;
        }
    }

    /** A training run: the weights at its end, the iteration the error first fell below {@link #CLIFF} (-1: never), the last error. */
    record Training(Weights end, int iterations, double finalError) {
        boolean succeeded() {
            return iterations >= 0;
        }
    }

    static int[] widths(int hidden) {
        int[] w = new int[DEPTH + 2];
        w[0] = Shadows.NEURONS;
        for (int i = 1; i <= DEPTH; i++) {
            w[i] = hidden;
        }
        w[DEPTH + 1] = 3;
        return w;
    }

    /**
     * Trains a net with these widths — from {@code start} if given, else from the seeded
     * initialisation — until its error falls below {@link #CLIFF} or {@code maxIterations} pass.
     */
    static Training train(int[] widths, Weights start, long seed, int maxIterations, double rate) {
        float[] x = Shadows.shadows(SHADOWS, 3);
        List<Dense> layers = new ArrayList<>();
        for (int i = 0; i + 1 < widths.length; i++) {
            layers.add(new Dense(widths[i], widths[i + 1], Activation.SIGMOID));
        }
        try (ReferenceOps ops = new ReferenceOps(); Model net = Model.sequential(Shape.of(widths[0]), seed, layers.toArray(new Layer[0]));
             Plan plan = net.compileForTraining(ops, SHADOWS, seed);
             Tensor target = Tensor.of(Shape.of(SHADOWS, 3), DeepNarrow.targets(SHADOWS))) {
            if (start != null) {
                for (int i = 0; i < layers.size(); i++) {
                    layers.get(i).weight().value().copyFrom(start.weights().get(i));
                    layers.get(i).bias().value().copyFrom(start.biases().get(i));
                }
            }
            plan.input().copyFrom(x);
            Sgd sgd = new Sgd(rate);
            MeanSquaredError mse = new MeanSquaredError();
            int reached = -1;
            double error = Double.NaN;
            for (int i = 0; i < maxIterations; i++) {
                plan.forward(true);
                error = mse.evaluate(plan.output(), target, plan.outputGradient());
                if (error < CLIFF) {
                    reached = i;
                    break;
                }
                plan.backward();
                sgd.step(plan);
            }
            List<float[]> w = new ArrayList<>();
            List<float[]> b = new ArrayList<>();
            for (Dense d : layers) {
                w.add(d.weight().value().toArray());
                b.add(d.bias().value().toArray());
            }
            return new Training(new Weights(widths.clone(), w, b), reached, error);
        }
    }

    /** Removes one neuron, chosen at random, from every hidden layer: its row of weights and bias, and its column in the next layer. */
    static Weights knockOut(Weights net, SplittableRandom random) {
        int[] widths = net.widths().clone();
        List<float[]> w = new ArrayList<>(net.weights());
        List<float[]> b = new ArrayList<>(net.biases());
        for (int layer = 0; layer + 1 < net.layers(); layer++) {
            int killed = random.nextInt(widths[layer + 1]);
            int in = widths[layer];
            int out = widths[layer + 1];
            // this layer loses output row `killed`
            float[] rows = new float[(out - 1) * in];
            float[] bias = new float[out - 1];
            for (int o = 0, k = 0; o < out; o++) {
                if (o == killed) {
                    continue;
                }
                System.arraycopy(w.get(layer), o * in, rows, k * in, in);
                bias[k++] = b.get(layer)[o];
            }
            w.set(layer, rows);
            b.set(layer, bias);
            // the next layer loses input column `killed`
            int nextOut = widths[layer + 2];
            float[] next = new float[nextOut * (out - 1)];
            for (int o = 0; o < nextOut; o++) {
                for (int i = 0, k = 0; i < out; i++) {
                    if (i != killed) {
                        next[o * (out - 1) + k++] = w.get(layer + 1)[o * out + i];
                    }
                }
            }
            w.set(layer + 1, next);
            widths[layer + 1] = out - 1;
        }
        return new Weights(widths, w, b);
    }

    /** Activations of every layer for one input, for the drawing. */
    static List<float[]> activations(Weights net, float[] input) {
        List<float[]> a = new ArrayList<>();
        a.add(input);
        float[] x = input;
        for (int l = 0; l < net.layers(); l++) {
            int in = net.widths()[l];
            int out = net.widths()[l + 1];
            float[] y = new float[out];
            for (int o = 0; o < out; o++) {
                double z = net.biases().get(l)[o];
                for (int i = 0; i < in; i++) {
                    z += (double) net.weights().get(l)[o * in + i] * x[i];
                }
                y[o] = (float) (1 / (1 + Math.exp(-z)));
            }
            a.add(y);
            x = y;
        }
        return a;
    }

    static List<float[][]> matrices(Weights net) {
        List<float[][]> m = new ArrayList<>();
        for (int l = 0; l < net.layers(); l++) {
            int in = net.widths()[l];
            float[][] rows = new float[net.widths()[l + 1]][in];
            for (int o = 0; o < rows.length; o++) {
                System.arraycopy(net.weights().get(l), o * in, rows[o], 0, in);
            }
            m.add(rows);
        }
        return m;
    }

    /** One seed: the wide net, its retrains after each cut, and the narrow net from scratch. */
    record SeedRun(long seed, Training wide, List<Training> retrains, Training scratch) {
        /** The pruned path reached the goal at every width down to {@link #NARROW}. */
        boolean prunedSucceeded() {
            return wide.succeeded() && retrains.size() == WIDE - NARROW && retrains.stream().allMatch(Training::succeeded);
        }

        /** Iterations the pruned path took in all: the wide net's training plus every retrain. */
        int prunedTotal() {
            return wide.iterations() + retrains.stream().mapToInt(t -> Math.max(0, t.iterations())).sum();
        }

        /** The narrow net from scratch reached the goal within as many iterations as the pruned path took. */
        boolean scratchWithinPrunedBudget() {
            return prunedSucceeded() && scratch.succeeded() && scratch.iterations() <= prunedTotal();
        }
    }

    static SeedRun runSeed(long seed) {
        Training wide = train(widths(WIDE), null, seed, WIDE_ITERATIONS, RATE);
        List<Training> retrains = new ArrayList<>();
        Training t = wide;
        SplittableRandom random = new SplittableRandom(seed);
        for (int width = WIDE - 1; width >= NARROW && t.succeeded(); width--) {
            Weights pruned = knockOut(t.end(), random);
            t = train(pruned.widths(), pruned, seed, RETRAIN_ITERATIONS, RATE);
            retrains.add(t);
        }
        return new SeedRun(seed, wide, retrains, train(widths(NARROW), null, seed, SCRATCH_ITERATIONS, RATE));
    }

    /** Every seed, spread over the cores. */
    static List<SeedRun> runAll(int seeds) {
        return Seeds.inParallel(seeds, Knockout::runSeed);
    }

    static double median(IntStream values) {
        int[] v = values.sorted().toArray();
        return v.length == 0 ? Double.NaN : (v[(v.length - 1) / 2] + v[v.length / 2]) / 2.0;
    }

    @Override
    public String name() {
        return "knockout";
    }

    @Override
    public String title() {
        return "Knockout: prune a wide net to 2 neurons per layer, or train that narrow net from scratch";
    }

    @Override
    public Result run(Path dir) throws IOException {
        List<SeedRun> runs = runAll(SEEDS);
        Table.Builder perSeed = Table.builder("Per seed: iterations until the error fell below " + CLIFF + " (" + DEPTH + " hidden layers, "
                + SHADOWS + " shadows, rate " + RATE + ")", "seed", "wide (" + WIDE + " per layer)",
                "retrains after each cut, " + (WIDE - 1) + " ... " + NARROW + " per layer", "pruned path in all",
                NARROW + " per layer from scratch", "from scratch: error at the end");
        for (SeedRun r : runs) {
            perSeed.row(r.seed(), iterations(r.wide(), WIDE_ITERATIONS),
                    String.join(" ", r.retrains().stream().map(t -> iterations(t, RETRAIN_ITERATIONS)).toList()),
                    r.prunedSucceeded() ? r.prunedTotal() : "failed", iterations(r.scratch(), SCRATCH_ITERATIONS),
                    String.format(Locale.ROOT, "%.3f", r.scratch().finalError()));
        }
        int wideOk = (int) runs.stream().filter(r -> r.wide().succeeded()).count();
        int prunedOk = (int) runs.stream().filter(SeedRun::prunedSucceeded).count();
        int scratchOk = (int) runs.stream().filter(r -> r.scratch().succeeded()).count();
        int scratchInBudget = (int) runs.stream().filter(SeedRun::scratchWithinPrunedBudget).count();
        double wideMedian = median(runs.stream().filter(r -> r.wide().succeeded()).mapToInt(r -> r.wide().iterations()));
        double retrainMedian = median(runs.stream().flatMap(r -> r.retrains().stream()).filter(Training::succeeded)
                .mapToInt(Training::iterations));
        double prunedMedian = median(runs.stream().filter(SeedRun::prunedSucceeded).mapToInt(SeedRun::prunedTotal));
        double scratchMedian = median(runs.stream().filter(r -> r.scratch().succeeded()).mapToInt(r -> r.scratch().iterations()));
        Table.Builder summary = Table.builder("Over " + SEEDS + " seeds", "net", "reached the goal", "median iterations (when reached)");
        summary.row(WIDE + " per layer", wideOk + " of " + SEEDS + " within " + WIDE_ITERATIONS, f(wideMedian));
        summary.row("pruned to " + NARROW + " per layer, retrained after each cut", prunedOk + " of " + SEEDS,
                f(retrainMedian) + " per retrain; " + f(prunedMedian) + " in all");
        summary.row(NARROW + " per layer from scratch, as many iterations as its pruned twin took", scratchInBudget + " of " + SEEDS, "");
        summary.row(NARROW + " per layer from scratch, up to " + SCRATCH_ITERATIONS, scratchOk + " of " + SEEDS, f(scratchMedian));

        Path chart = dir.resolve("knockout-iterations.png");
        double[] seeds = runs.stream().mapToDouble(SeedRun::seed).toArray();
        Charts.lines(chart, "Iterations to learn, per seed (log10; a failure is drawn at its limit, a failed pruning at " + SCRATCH_ITERATIONS + ")", "seed", "log10(iterations)",
                List.of(Charts.Series.points("wide", seeds, runs.stream().mapToDouble(r -> log(r.wide(), WIDE_ITERATIONS)).toArray()),
                        Charts.Series.points("pruned path in all", seeds, runs.stream()
                                .mapToDouble(r -> Math.log10(r.prunedSucceeded() ? r.prunedTotal() : SCRATCH_ITERATIONS)).toArray()),
                        Charts.Series.points("narrow from scratch", seeds, runs.stream()
                                .mapToDouble(r -> log(r.scratch(), SCRATCH_ITERATIONS)).toArray())));
        List<Path> figures = new ArrayList<>(List.of(chart));
        float[] giraffe = Arrays.copyOfRange(Shadows.shadows(SHADOWS, 3), 20, 30);
        SeedRun first = runs.get(0);
        if (first.prunedSucceeded()) {
            Path png = dir.resolve("knockout-pruned.png");
            Weights w = first.retrains().get(first.retrains().size() - 1).end();
            NetworkDrawing.draw(png, "Seed 1 pruned to " + NARROW + " per layer (a giraffe's shadow)", matrices(w), activations(w, giraffe));
            figures.add(png);
        }
        runs.stream().filter(r -> !r.scratch().succeeded()).findFirst().ifPresent(r -> {
            Path png = dir.resolve("knockout-stuck.png");
            try {
                NetworkDrawing.draw(png, "Seed " + r.seed() + ": " + NARROW + " per layer from scratch, stuck at error "
                        + String.format(Locale.ROOT, "%.3f", r.scratch().finalError()), matrices(r.scratch().end()),
                        activations(r.scratch().end(), giraffe));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            figures.add(png);
        });
        boolean held = prunedOk >= 0.9 * SEEDS && retrainMedian < wideMedian / 5 && scratchInBudget < prunedOk
                && scratchMedian > wideMedian;
        String measured = String.format(Locale.ROOT, "The wide net (%d sigmoid neurons in each of %d hidden layers) learned in %d of %d"
                + " seeds (median %s iterations). Knocking out one random neuron per layer and retraining, down to %d per layer,"
                + " worked in %d of %d seeds, a retrain taking a median of %s iterations (%s for the whole path). A %d-per-layer net"
                + " trained from scratch learned within as many iterations as its pruned twin in only %d of %d seeds; given up to %d"
                + " iterations it got there in %d (median %s), the others stuck on a plateau. The narrow net can represent the"
                + " answer — the pruned nets show it — but from a random start it rarely finds it quickly: the extra neurons give"
                + " gradient descent ways around what, for the narrow net, are traps.", WIDE, DEPTH, wideOk, SEEDS, f(wideMedian), NARROW,
                prunedOk, SEEDS, f(retrainMedian), f(prunedMedian), NARROW, scratchInBudget, SEEDS, SCRATCH_ITERATIONS, scratchOk,
                f(scratchMedian));
        return new Result(name(), title(), "Kill one neuron in every layer and retrain, down to 2 per layer: each retrain converges"
                + " fast. A net that narrow trained from scratch gets stuck in a local minimum: widening turns local minima into"
                + " saddle points.", measured, held, figures, List.of(summary.build(), perSeed.build()));
    }

    private static String iterations(Training t, int limit) {
        return t.succeeded() ? Integer.toString(t.iterations()) : "not within " + limit;
    }

    private static double log(Training t, int limit) {
        return Math.log10(t.succeeded() ? Math.max(1, t.iterations()) : limit);
    }

    private static String f(double v) {
        return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%.0f", v);
    }
}
