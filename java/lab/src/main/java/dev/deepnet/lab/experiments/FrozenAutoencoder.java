package dev.deepnet.lab.experiments;

import dev.deepnet.infer.ClassOutput;
import dev.deepnet.lab.report.Charts;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.Sgd;
import dev.deepnet.train.SoftmaxCrossEntropy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The autoencoder's code put to work: its output layer is detached, its input-to-hidden weights
 * are frozen, and a new 3-class output layer (softmax over three raw scores, initialised to zero
 * so every class starts at exactly 1/3) is trained alone to name the animal. The same 10-3-3 net
 * trained from scratch is the comparison.
 *
 * <p>The comparison is made at each net's best learning rate from one grid, over several seeds
 * (each seed trains its own autoencoder). Trained alone on a fixed code, the new layer is a
 * convex problem (softmax regression) that tolerates rates at which the whole net diverges, and
 * at a low shared rate the whole net is faster: comparing at one rate would measure the rate,
 * not the method. Plain SGD on the full batch, as the lecture's nets.
 */
public final class FrozenAutoencoder implements Experiment {

    static final int SHADOWS = 30;
    static final int SEEDS = 8;
    static final double[] RATES = {1, 3, 10, 30, 100};
    static final int MAX_ITERATIONS = 5000;
    /** "The classes match": every shadow's own class has probability at least this. */
    static final double MATCH = 0.8;

    /** One training run: iterations until the classes matched (-1: not within {@link #MAX_ITERATIONS}), outputs before and after, the loss per iteration. */
    record Run(int iterations, float[] before, float[] after, double[] loss, boolean encoderUnchanged) {
        boolean converged() {
            return iterations >= 0;
        }
    }

    /**
     * Trains a 3-class output layer on the shadows: on the autoencoder's frozen code when
     * {@code encoder} is given (the new layer starting at zero), else the whole 10-3-3 net from
     * its seeded initialisation.
     */
    static Run train(Dense encoder, long seed, double rate) {
        Dense hidden = new Dense(10, 3, Activation.SIGMOID);
        Dense classes = new Dense(3, 3); // raw scores: SoftmaxCrossEntropy applies the softmax
        float[] x = Shadows.shadows(SHADOWS, 3);
        try (ReferenceOps ops = new ReferenceOps(); Model net = Model.sequential(Shape.of(10), seed, hidden, classes);
             Tensor target = Tensor.of(Shape.of(SHADOWS, 3), DeepNarrow.targets(SHADOWS))) {
            float[] code = null;
            if (encoder != null) {
                hidden.weight().value().copyFrom(encoder.weight().value());
                hidden.bias().value().copyFrom(encoder.bias().value());
                hidden.weight().setFrozen(true);
                hidden.bias().setFrozen(true);
                classes.weight().value().copyFrom(new float[9]);
                classes.bias().value().copyFrom(new float[3]);
                code = hidden.weight().value().toArray();
            }
            ClassOutput output = ClassOutput.of(net);
            try (Plan plan = net.compileForTraining(ops, SHADOWS, seed)) {
                plan.input().copyFrom(x);
                plan.forward(false);
                float[] before = probabilities(output, plan);
                SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy();
                Sgd sgd = new Sgd(rate);
                double[] loss = new double[MAX_ITERATIONS];
                int matched = -1;
                int i = 0;
                for (; i < MAX_ITERATIONS; i++) {
                    plan.forward(true);
                    loss[i] = ce.evaluate(plan.output(), target, plan.outputGradient());
                    if (classesMatch(probabilities(output, plan))) {
                        matched = i;
                        break;
                    }
                    plan.backward();
                    sgd.step(plan);
                }
                plan.forward(false);
                float[] after = probabilities(output, plan);
                boolean unchanged = code == null || Arrays.equals(code, hidden.weight().value().toArray());
                return new Run(matched, before, after, Arrays.copyOf(loss, Math.min(MAX_ITERATIONS, i + 1)), unchanged);
            }
        }
    }

    /** Each shadow's class probabilities: the softmax of its three scores. */
    static float[] probabilities(ClassOutput output, Plan plan) {
        float[] p = plan.output().toArray();
        output.toProbabilities(p, SHADOWS, p);
        return p;
    }

    static boolean classesMatch(float[] p) {
        for (int s = 0; s < p.length / 3; s++) {
            if (p[s * 3 + Shadows.animal(s)] < MATCH) {
                return false;
            }
        }
        return true;
    }

    /** Every run: [method 0 = frozen, 1 = scratch][rate][seed]. */
    record Grid(Run[][][] runs) {
        /** Median iterations over seeds, a run that never matched counting as infinitely long. */
        double median(int method, int rate) {
            double[] it = new double[SEEDS];
            for (int s = 0; s < SEEDS; s++) {
                Run r = runs[method][rate][s];
                it[s] = r.converged() ? r.iterations() : Double.POSITIVE_INFINITY;
            }
            Arrays.sort(it);
            return (it[(SEEDS - 1) / 2] + it[SEEDS / 2]) / 2;
        }

        int failures(int method, int rate) {
            int n = 0;
            for (Run r : runs[method][rate]) {
                n += r.converged() ? 0 : 1;
            }
            return n;
        }

        /** The rate with the smallest median, fewest failures breaking ties. */
        int bestRate(int method) {
            int best = 0;
            for (int r = 1; r < RATES.length; r++) {
                double m = median(method, r);
                double b = median(method, best);
                if (m < b || (m == b && failures(method, r) < failures(method, best))) {
                    best = r;
                }
            }
            return best;
        }
    }

    static Grid grid() {
        Run[][][] runs = new Run[2][RATES.length][SEEDS];
        for (int s = 0; s < SEEDS; s++) {
            try (Autoencoder.Trained ae = Autoencoder.train(s + 1)) {
                for (int r = 0; r < RATES.length; r++) {
                    runs[0][r][s] = train(ae.encoder(), s + 1, RATES[r]);
                    runs[1][r][s] = train(null, s + 1, RATES[r]);
                }
            }
        }
        return new Grid(runs);
    }

    @Override
    public String name() {
        return "frozen-autoencoder";
    }

    @Override
    public String title() {
        return "Frozen autoencoder: a new output layer on the learned code";
    }

    @Override
    public Result run(Path dir) throws IOException {
        Grid g = grid();
        int bf = g.bestRate(0);
        int bs = g.bestRate(1);
        Table.Builder rates = Table.builder("Median iterations until every shadow's class has probability >= " + MATCH + " ("
                + SEEDS + " seeds; not within " + MAX_ITERATIONS + ": failed)", "rate", "frozen code + new layer", "failed",
                "whole net from scratch", "failed");
        for (int r = 0; r < RATES.length; r++) {
            rates.row(RATES[r], median(g.median(0, r)), g.failures(0, r), median(g.median(1, r)), g.failures(1, r));
        }
        Table.Builder seeds = Table.builder("Per seed, each at its best rate (frozen " + RATES[bf] + ", scratch " + RATES[bs] + ")",
                "seed", "frozen: iterations", "scratch: iterations", "frozen: class outputs before", "frozen: worst own-class probability after");
        double spreadBefore = 0;
        boolean allMatched = true;
        boolean encoderUnchanged = true;
        for (int s = 0; s < SEEDS; s++) {
            Run f = g.runs()[0][bf][s];
            Run sc = g.runs()[1][bs][s];
            double lo = 1;
            double hi = 0;
            for (float p : f.before()) {
                lo = Math.min(lo, p);
                hi = Math.max(hi, p);
            }
            spreadBefore = Math.max(spreadBefore, Math.max(Math.abs(hi - 1.0 / 3), Math.abs(lo - 1.0 / 3)));
            double worst = 1;
            for (int k = 0; k < SHADOWS; k++) {
                worst = Math.min(worst, f.after()[k * 3 + Shadows.animal(k)]);
            }
            allMatched &= f.converged();
            encoderUnchanged &= f.encoderUnchanged();
            seeds.row(s + 1, f.converged() ? f.iterations() : "not within " + MAX_ITERATIONS,
                    sc.converged() ? sc.iterations() : "not within " + MAX_ITERATIONS,
                    String.format(Locale.ROOT, "%.3f to %.3f", lo, hi), String.format(Locale.ROOT, "%.2f", worst));
        }
        Path curves = dir.resolve("frozen-autoencoder-loss.png");
        Run f1 = g.runs()[0][bf][0];
        Run s1 = g.runs()[1][bs][0];
        Charts.lines(curves, "Seed 1: cross-entropy while training", "iteration", "loss",
                List.of(Charts.Series.of("frozen code, rate " + RATES[bf], f1.loss()), Charts.Series.of("from scratch, rate " + RATES[bs], s1.loss())));
        Path byRate = dir.resolve("frozen-autoencoder-rates.png");
        List<Charts.Series> series = new ArrayList<>();
        for (int m = 0; m < 2; m++) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int r = 0; r < RATES.length; r++) {
                if (Double.isFinite(g.median(m, r))) {
                    xs.add(Math.log10(RATES[r]));
                    ys.add(g.median(m, r));
                }
            }
            series.add(new Charts.Series(m == 0 ? "frozen code + new layer" : "whole net from scratch",
                    xs.stream().mapToDouble(Double::doubleValue).toArray(), ys.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        Charts.lines(byRate, "Median iterations to match the classes, by learning rate", "log10(rate)", "iterations", series);
        double frozen = g.median(0, bf);
        double scratch = g.median(1, bs);
        boolean held = spreadBefore < 1e-6 && allMatched && encoderUnchanged && frozen < scratch;
        String measured = String.format(Locale.ROOT, "Before training every class output of the new layer was 1/3 (largest"
                + " deviation %.1e, all %d seeds). Training only the new layer, every shadow's class reached probability %.1f in a"
                + " median of %s iterations at its best rate (%s), against %s iterations for the whole 10-3-3 net from scratch at its"
                + " best rate (%s); the frozen weights did not change. The rates matter (see the table): trained alone on a"
                + " fixed code the new layer is a convex problem and tolerates rates at which the whole net diverges, while at"
                + " rates of 1 to 3 the whole net is the faster one.",
                spreadBefore, SEEDS, MATCH, median(frozen), RATES[bf], median(scratch), RATES[bs]);
        return new Result(name(), title(), "Detach the autoencoder's output layer, freeze the input-to-hidden weights and train only a"
                + " new 3-class output layer: before, every class output is the same (1/3 with softmax); after, the classes match —"
                + " and it gets there faster than the same net trained from scratch.", measured, held, List.of(curves, byRate),
                List.of(rates.build(), seeds.build()));
    }

    private static String median(double m) {
        return Double.isFinite(m) ? String.format(Locale.ROOT, "%.1f", m) : "—";
    }
}
