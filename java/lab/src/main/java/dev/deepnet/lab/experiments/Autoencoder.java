package dev.deepnet.lab.experiments;

import dev.deepnet.lab.report.Charts;
import dev.deepnet.lab.report.NetworkDrawing;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.MeanSquaredError;
import dev.deepnet.train.Sgd;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The lecture's autoencoder: 10 inputs, 3 hidden, 10 outputs, sigmoid units, plain backprop, the
 * desired output being the input. Before training every output is about 0.5; after about 1,000
 * iterations the outputs match the inputs.
 *
 * <p>Runs on the plain-Java backend: for a net this small the per-op cost of a native call and
 * OpenMP's fork/join outweighs the arithmetic (bench/README.md, TrainingStepBenchmark).
 */
public final class Autoencoder implements Experiment {

    static final int SAMPLES = 12;
    static final int ITERATIONS = 2000;
    static final double RATE = 10.0;

    /** A trained autoencoder and what it did. */
    record Trained(Model net, Dense encoder, Dense decoder, float[] inputs, float[] before, float[] after, double[] curve,
            int firstBelow) implements AutoCloseable {
        @Override
        public void close() {
            net.close();
        }
    }

    /** How close "the outputs match the inputs" means: every output within this of its input. */
    static final double MATCH = 0.2;

    /** Trains the 10-3-10 autoencoder on the shadows, seeded; {@code firstBelow}: the first iteration after which every output is within {@link #MATCH} of its input. */
    static Trained train(long seed) {
        Dense encoder = new Dense(10, 3, Activation.SIGMOID);
        encoder.named("hidden");
        Dense decoder = new Dense(3, 10, Activation.SIGMOID);
        decoder.named("output");
        Model net = Model.sequential(Shape.of(10), seed, encoder, decoder);
        float[] x = Shadows.shadows(SAMPLES, seed);
        try (Ops ops = new ReferenceOps(); Plan plan = net.compileForTraining(ops, SAMPLES, seed);
             Tensor target = Tensor.of(Shape.of(SAMPLES, 10), x)) {
            plan.input().copyFrom(x);
            plan.forward(false);
            float[] before = plan.output().toArray();
            Sgd sgd = new Sgd(RATE);
            MeanSquaredError mse = new MeanSquaredError();
            double[] curve = new double[ITERATIONS];
            int firstBelow = -1;
            for (int i = 0; i < ITERATIONS; i++) {
                plan.forward(true);
                curve[i] = mse.evaluate(plan.output(), target, plan.outputGradient());
                if (firstBelow < 0 && largestError(plan.output(), x) < MATCH) {
                    firstBelow = i;
                }
                plan.backward();
                sgd.step(plan);
            }
            plan.forward(false);
            return new Trained(net, encoder, decoder, x, before, plan.output().toArray(), curve, firstBelow);
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }

    static double largestError(Tensor output, float[] x) {
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            worst = Math.max(worst, Math.abs(output.getFlat(i) - x[i]));
        }
        return worst;
    }

    @Override
    public String name() {
        return "autoencoder";
    }

    @Override
    public String title() {
        return "Autoencoder: 10 inputs, 3 hidden neurons, 10 outputs";
    }

    @Override
    public Result run(Path dir) throws IOException {
        try (Trained t = train(1)) {
            double[] iterations = new double[ITERATIONS];
            for (int i = 0; i < ITERATIONS; i++) {
                iterations[i] = i + 1;
            }
            Path curve = dir.resolve("autoencoder-error.png");
            Charts.lines(curve, "Autoencoder error while training", "iteration", "error (half squared error per shadow)",
                    List.of(new Charts.Series("error", iterations, t.curve())));
            double worstBefore = 0;
            double worstAfter = 0;
            double farthestFromHalf = 0;
            for (int i = 0; i < t.inputs().length; i++) {
                worstBefore = Math.max(worstBefore, Math.abs(t.before()[i] - t.inputs()[i]));
                worstAfter = Math.max(worstAfter, Math.abs(t.after()[i] - t.inputs()[i]));
                farthestFromHalf = Math.max(farthestFromHalf, Math.abs(t.before()[i] - 0.5));
            }
            Table.Builder columns = Table.builder("One shadow of each animal: input, output before and after training, desired output",
                    "animal", "neuron", "input", "output before", "output after", "desired");
            for (int s = 0; s < 3; s++) {
                for (int i = 9; i >= 0; i--) {
                    int k = s * 10 + i;
                    columns.row(Shadows.ANIMALS.get(Shadows.animal(s)), i, f(t.inputs()[k]), f(t.before()[k]), f(t.after()[k]), f(t.inputs()[k]));
                }
            }
            boolean held = farthestFromHalf < 0.25 && worstAfter < MATCH && t.firstBelow() > 0;
            String measured = String.format(Locale.ROOT, "Before training every output was within %.2f of 0.5 (largest error %.2f). "
                    + "With plain backprop (rate %.0f, no momentum) every output came within " + MATCH + " of its input at iteration"
                    + " %d; after %d iterations the"
                    + " largest difference between an output and its input is %.3f (the remaining error is the shadows' own noise,"
                    + " which 3 hidden neurons cannot and need not encode).", farthestFromHalf, worstBefore, RATE, t.firstBelow(),
                    ITERATIONS, worstAfter);
            return new Result(name(), title(), "Before training every output is about 0.5; after about 1,000 iterations of backprop the"
                    + " outputs match the inputs.", measured, held, List.of(curve), List.of(columns.build()));
        }
    }

    static String f(float v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    /** The net drawn with one input's activations: the lecture's picture. */
    static Path draw(Dense encoder, Dense decoder, float[] input, Path png, String title) throws IOException {
        float[] hidden = Neurons.layer(encoder, input);
        float[] out = Neurons.layer(decoder, hidden);
        NetworkDrawing.draw(png, title, List.of(Neurons.matrix(encoder), Neurons.matrix(decoder)), List.of(input, hidden, out));
        return png;
    }
}
