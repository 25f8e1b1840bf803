package dev.deepnet.lab.experiments;

import dev.deepnet.lab.report.Charts;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.BinaryCrossEntropy;
import dev.deepnet.train.Sgd;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One output neuron {@code z = 1 / (1 + e^-(w x - T))} fit to labelled 1-D points by gradient
 * ascent on the likelihood — the product of z over the positives and 1 - z over the negatives —
 * done as descent on the negative log-likelihood (binary cross-entropy). Then one positive
 * example is added deep in the negative region and the fit is repeated: the curve shifts.
 */
public final class SigmoidMl implements Experiment {

    static final double[] NEGATIVES = {-3, -2.5, -2, -1.6, -1.2, -0.8, -0.4, 0.3};
    static final double[] POSITIVES = {-0.2, 0.4, 0.8, 1.2, 1.6, 2, 2.5, 3};
    static final double OUTLIER = -4;
    static final int ITERATIONS = 3000;

    /** The fitted neuron: weight w, threshold T, and the log-likelihood at each iteration. */
    record Fit(double w, double threshold, double[] logLikelihood) {
        /** Where z = 0.5: x = T / w. */
        double crossing() {
            return threshold / w;
        }

        double z(double x) {
            return 1 / (1 + Math.exp(-(w * x - threshold)));
        }
    }

    static Fit fit(double[] negatives, double[] positives) {
        int n = negatives.length + positives.length;
        float[] x = new float[n];
        float[] t = new float[n];
        for (int i = 0; i < negatives.length; i++) {
            x[i] = (float) negatives[i];
        }
        for (int i = 0; i < positives.length; i++) {
            x[negatives.length + i] = (float) positives[i];
            t[negatives.length + i] = 1;
        }
        Dense neuron = new Dense(1, 1, Activation.SIGMOID);
        try (Ops ops = new ReferenceOps(); Model net = Model.sequential(Shape.of(1), 1, neuron);
             Plan plan = net.compileForTraining(ops, n, 1); Tensor target = Tensor.of(Shape.of(n, 1), t)) {
            plan.input().copyFrom(x);
            BinaryCrossEntropy nll = new BinaryCrossEntropy();
            Sgd ascent = new Sgd(1.0); // descending -log L is ascending log L
            double[] logL = new double[ITERATIONS];
            for (int i = 0; i < ITERATIONS; i++) {
                plan.forward(true);
                logL[i] = -nll.evaluate(plan.output(), target, plan.outputGradient()) * n;
                plan.backward();
                ascent.step(plan);
            }
            double w = neuron.weight().value().getFlat(0);
            double threshold = -neuron.bias().value().getFlat(0); // the bias is minus the threshold
            return new Fit(w, threshold, logL);
        }
    }

    @Override
    public String name() {
        return "sigmoid-ml";
    }

    @Override
    public String title() {
        return "A sigmoid neuron fit by maximum likelihood";
    }

    @Override
    public Result run(Path dir) throws IOException {
        Fit plain = fit(NEGATIVES, POSITIVES);
        double[] withOutlier = new double[POSITIVES.length + 1];
        System.arraycopy(POSITIVES, 0, withOutlier, 0, POSITIVES.length);
        withOutlier[POSITIVES.length] = OUTLIER;
        Fit shifted = fit(NEGATIVES, withOutlier);

        double[] xs = new double[121];
        double[] z1 = new double[xs.length];
        double[] z2 = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = -6 + i * 0.1;
            z1[i] = plain.z(xs[i]);
            z2[i] = shifted.z(xs[i]);
        }
        List<Charts.Series> series = new ArrayList<>();
        series.add(Charts.Series.points("negatives (z should be 0)", NEGATIVES, new double[NEGATIVES.length]));
        double[] ones = new double[POSITIVES.length];
        java.util.Arrays.fill(ones, 1);
        series.add(Charts.Series.points("positives (z should be 1)", POSITIVES, ones));
        series.add(Charts.Series.points("added positive", new double[] {OUTLIER}, new double[] {1}));
        series.add(new Charts.Series("fit", xs, z1));
        series.add(new Charts.Series("fit with the added positive", xs, z2));
        Path curve = dir.resolve("sigmoid-ml-curve.png");
        Charts.lines(curve, "z = 1 / (1 + exp(-(w x - T)))", "x", "z", series);
        Path likelihood = dir.resolve("sigmoid-ml-likelihood.png");
        Charts.lines(likelihood, "Log-likelihood while fitting", "iteration", "log-likelihood",
                List.of(Charts.Series.of("without the added positive", plain.logLikelihood()),
                        Charts.Series.of("with it", shifted.logLikelihood())));
        boolean rising = plain.logLikelihood()[ITERATIONS - 1] > plain.logLikelihood()[0];
        boolean held = rising && shifted.w() < plain.w() && shifted.crossing() < plain.crossing();
        Table table = Table.builder("Fitted neuron", "data", "w", "T", "z = 0.5 at x =", "log-likelihood")
                .row("16 points", f(plain.w()), f(plain.threshold()), f(plain.crossing()), f(plain.logLikelihood()[ITERATIONS - 1]))
                .row("plus a positive at x = -4", f(shifted.w()), f(shifted.threshold()), f(shifted.crossing()),
                        f(shifted.logLikelihood()[ITERATIONS - 1]))
                .build();
        String measured = String.format(Locale.ROOT, "Gradient ascent raised the log-likelihood from %.2f to %.2f (w = %.2f, T = %.2f, the"
                + " curve crossing 0.5 at x = %.2f). With one more positive at x = %.0f the best curve is flatter (w = %.2f) and"
                + " crosses 0.5 further left, at x = %.2f: one stray example drags the whole fit.", plain.logLikelihood()[0],
                plain.logLikelihood()[ITERATIONS - 1], plain.w(), plain.threshold(), plain.crossing(), OUTLIER, shifted.w(),
                shifted.crossing());
        return new Result(name(), title(), "Fitting z = 1/(1 + e^-(wx - T)) by maximising the likelihood (the product of z over"
                + " positives and 1 - z over negatives) places the curve between the classes; a positive example deep in the"
                + " negative region shifts the curve.", measured, held, List.of(curve, likelihood), List.of(table));
    }

    static String f(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
