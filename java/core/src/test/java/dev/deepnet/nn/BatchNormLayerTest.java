package dev.deepnet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.ops.Activation;
import dev.deepnet.ops.BatchNormSpec;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.Loss;
import dev.deepnet.train.SoftmaxCrossEntropy;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BatchNorm2d in plans: training passes normalise with the batch and move the running statistics
 * (PyTorch's rule), inference and input-gradient plans use the running ones, gradients match finite
 * differences in both, and on oneDNN the layer keeps its convolution's layout.
 */
class BatchNormLayerTest {

    static List<String> backends() {
        return List.of("reference", "onednn");
    }

    /** conv 2->8 (8 channels: a blocked layout on oneDNN), batch norm, tanh, flatten, dense 3 (smooth: no kinks). */
    private static Model net(BatchNorm2d norm) {
        Model.Builder b = Model.builder(Shape.of(2, 5, 5));
        Node conv = b.add(new Conv2d(2, 8, 3, 3, Conv2dSpec.of(1, 1)), b.input());
        Node normed = b.add(norm, conv);
        Node out = b.add(new Dense(8 * 25, 3, Activation.LINEAR), b.add(new Flatten(), b.add(new Tanh(), normed)));
        return b.build(out, 7);
    }

    private static void fill(Tensor t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.size(); i++) {
            t.setFlat(i, (float) r.nextDouble(-1, 1));
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void trainingNormalisesWithTheBatchMovesTheRunningStatisticsAndItsGradientsMatchFiniteDifferences(String backend) {
        BatchNorm2d norm = new BatchNorm2d(8, new BatchNormSpec(1e-5f, 0.1f));
        try (Ops ops = PlanTest.ops(backend); Model net = net(norm); Plan plan = net.compileForTraining(ops, 3, 1, true);
             Tensor target = Tensor.of(Shape.of(3, 3), 1, 0, 0, 0, 1, 0, 0, 0, 1)) {
            assertEquals(plan.layout(net.nodes().get(1)), plan.layout(net.nodes().get(2)), "batch norm keeps the convolution's layout");
            fill(plan.input(), 3);
            Loss loss = new SoftmaxCrossEntropy();
            plan.forward(true);
            loss.evaluate(plan.output(), target, plan.outputGradient());
            plan.backward();
            // One training pass: running = 0.9 * (0, 1) + 0.1 * (the batch's mean, its unbiased variance).
            float[] mean = norm.runningMean().value().toArray();
            float[] variance = norm.runningVariance().value().toArray();
            try (Plan probe = net.compileForTraining(new dev.deepnet.ops.ReferenceOps(), 3, 1)) {
                probe.input().copyFrom(plan.input());
                probe.forward(false); // an inference pass of a training plan: statistics untouched
                Tensor conv = probe.output(net.nodes().get(1));
                long m = 3 * 25;
                for (int c = 0; c < 8; c++) {
                    double s = 0;
                    double sq = 0;
                    for (int n = 0; n < 3; n++) {
                        for (int p = 0; p < 25; p++) {
                            double v = conv.getFlat((n * 8L + c) * 25 + p);
                            s += v;
                            sq += v * v;
                        }
                    }
                    double mu = s / m;
                    double unbiased = (sq - m * mu * mu) / (m - 1);
                    assertEquals(0.1 * mu, mean[c], 1e-5, "running mean of channel " + c);
                    assertEquals(0.9 + 0.1 * unbiased, variance[c], 1e-4, "running variance of channel " + c);
                }
            }
            checkGradients(backend, plan, net, loss, target, true);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void inferenceAndInputGradientPlansUseTheRunningStatistics(String backend) {
        BatchNorm2d norm = new BatchNorm2d(8);
        try (Ops ops = PlanTest.ops(backend); Model net = net(norm)) {
            fill(norm.runningMean().value(), 11);
            fill(norm.runningVariance().value(), 12);
            fill(norm.weight().value(), 13);
            fill(norm.bias().value(), 14);
            for (long i = 0; i < 8; i++) {
                norm.runningVariance().value().setFlat(i, 0.2f + Math.abs(norm.runningVariance().value().getFlat(i)));
            }
            try (Plan infer = net.compileForInference(ops, 2); Plan gradient = net.compileForInputGradient(ops, 2);
                 Tensor target = Tensor.of(Shape.of(2, 3), 0, 1, 0, 0, 0, 1)) {
                fill(infer.input(), 5);
                gradient.input().copyFrom(infer.input());
                infer.forward(false);
                Tensor conv = gradient.output(net.nodes().get(1));
                Tensor normed = gradient.output(net.nodes().get(2));
                gradient.forward(true);
                float[] mean = norm.runningMean().value().toArray();
                float[] var = norm.runningVariance().value().toArray();
                float[] g = norm.weight().value().toArray();
                float[] b = norm.bias().value().toArray();
                for (long i = 0; i < conv.size(); i++) {
                    int c = (int) (i / 25 % 8);
                    double expected = g[c] * (conv.getFlat(i) - mean[c]) / Math.sqrt(var[c] + 1e-5) + b[c];
                    assertEquals(expected, normed.getFlat(i), 1e-4, "normalised with the running statistics at " + i);
                }
                assertEquals(gradient.output().getFlat(0), infer.output().getFlat(0), 1e-5);
                float[] unchanged = norm.runningMean().value().toArray();
                assertEquals(mean[0], unchanged[0], "an input-gradient pass leaves the running statistics alone");
                Loss loss = new SoftmaxCrossEntropy();
                loss.evaluate(gradient.output(), target, gradient.outputGradient());
                gradient.backward();
                checkInputGradient(backend, gradient, loss, target);
            }
        }
    }

    /** Every parameter's gradient (and the input's) against central differences of passes in the given mode. */
    private static void checkGradients(String backend, Plan plan, Model net, Loss loss, Tensor target, boolean training) {
        SplittableRandom r = new SplittableRandom(9);
        for (Parameter p : net.parameters()) {
            Tensor g = plan.gradient(p);
            assertNotNull(g, p + " has a gradient");
            for (int s = 0; s < 5; s++) {
                long i = r.nextLong(p.shape().size());
                assertDerivative(backend + ": " + p + "[" + i + "]", plan, loss, target, p.value(), i, g.getFlat(i), training);
            }
        }
        checkInputGradient(backend, plan, loss, target);
    }

    private static void checkInputGradient(String backend, Plan plan, Loss loss, Tensor target) {
        SplittableRandom r = new SplittableRandom(10);
        boolean training = !plan.isInputGradientOnly();
        float[] analytic = plan.inputGradient().toArray();
        for (int s = 0; s < 6; s++) {
            long i = r.nextLong(plan.input().size());
            assertDerivative(backend + ": input[" + i + "]", plan, loss, target, plan.input(), i, analytic[(int) i], training);
        }
    }

    private static void assertDerivative(String what, Plan plan, Loss loss, Tensor target, Tensor t, long i, double analytic,
            boolean training) {
        float v = t.getFlat(i);
        double h = 1e-2;
        t.setFlat(i, (float) (v + h));
        plan.forward(training);
        double plus = loss.value(plan.output(), target);
        t.setFlat(i, (float) (v - h));
        plan.forward(training);
        double minus = loss.value(plan.output(), target);
        t.setFlat(i, v);
        double fd = (plus - minus) / (2 * h);
        assertTrue(Math.abs(fd - analytic) <= 2e-3 + 2e-2 * Math.abs(analytic),
                what + " is " + analytic + " but finite differences give " + fd);
    }
}
