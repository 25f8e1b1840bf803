package dev.deepnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.ops.Activation;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.Loss;
import dev.deepnet.train.MeanSquaredError;
import dev.deepnet.train.Sgd;
import dev.deepnet.train.SoftmaxCrossEntropy;
import dev.deepnet.train.LearningRateSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PlanTest {

    static Stream<String> backends() {
        return Stream.of("reference", "onednn");
    }

    static Ops ops(String name) {
        return name.equals("onednn") ? new OneDnnOps(0, 0) : new ReferenceOps();
    }

    /** One step of full-batch gradient descent; returns the loss before the update. */
    static double step(Plan plan, Loss loss, Tensor target, Sgd sgd) {
        plan.forward(true);
        double l = loss.evaluate(plan.output(), target, plan.outputGradient());
        plan.backward();
        sgd.step(plan);
        return l;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void xorIsLearned(String backend) {
        try (Ops ops = ops(backend);
             Model net = Model.sequential(Shape.of(2), 7, new Dense(2, 4, Activation.SIGMOID), new Dense(4, 1, Activation.SIGMOID));
             Plan plan = net.compileForTraining(ops, 4, 1);
             Tensor target = Tensor.of(Shape.of(4, 1), 0, 1, 1, 0)) {
            plan.input().copyFrom(new float[] {0, 0, 0, 1, 1, 0, 1, 1});
            Sgd sgd = new Sgd(LearningRateSchedule.constant(2.0), 0.9, 0);
            double first = 0, last = 0;
            for (int i = 0; i < 2000; i++) {
                last = step(plan, new MeanSquaredError(), target, sgd);
                if (i == 0) {
                    first = last;
                }
            }
            plan.forward(false);
            float[] y = plan.output().toArray();
            assertTrue(last < first / 20, backend + ": loss went from " + first + " to " + last);
            assertTrue(y[0] < 0.2 && y[1] > 0.8 && y[2] > 0.8 && y[3] < 0.2, backend + ": XOR outputs " + java.util.Arrays.toString(y));
        }
    }

    /** Three animals' shadows on 10 height-neurons: short, medium, tall, with noise. */
    static float[] shadows(int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[count * 10];
        for (int i = 0; i < count; i++) {
            int height = switch (i % 3) {
                case 0 -> 3;
                case 1 -> 6;
                default -> 9;
            } + r.nextInt(-1, 2);
            for (int j = 0; j < 10; j++) {
                x[i * 10 + j] = (float) Math.min(1, Math.max(0, (j < height ? 0.9 : 0.1) + r.nextDouble(-0.05, 0.05)));
            }
        }
        return x;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void a10x3x10AutoencoderReproducesItsInputs(String backend) {
        try (Ops ops = ops(backend);
             Model net = Model.sequential(Shape.of(10), 3, new Dense(10, 3, Activation.SIGMOID), new Dense(3, 10, Activation.SIGMOID));
             Plan plan = net.compileForTraining(ops, 12, 1);
             Tensor target = Tensor.allocate(Shape.of(12, 10))) {
            float[] x = shadows(12, 5);
            plan.input().copyFrom(x);
            target.copyFrom(x); // the desired output is the input
            plan.forward(false);
            float[] before = plan.output().toArray();
            for (float v : before) {
                assertTrue(Math.abs(v - 0.5) < 0.35, "before training outputs sit near 0.5: " + v);
            }
            Sgd sgd = new Sgd(10.0); // plain backprop, as in the lecture
            double loss = 0;
            for (int i = 0; i < 3000; i++) {
                loss = step(plan, new MeanSquaredError(), target, sgd);
            }
            assertTrue(loss < 0.01, backend + ": loss after 3000 steps " + loss);
            plan.forward(false);
            float[] after = plan.output().toArray();
            double worst = 0;
            for (int i = 0; i < x.length; i++) {
                worst = Math.max(worst, Math.abs(after[i] - x[i]));
            }
            assertTrue(worst < 0.2, backend + ": largest output error after training " + worst);
        }
    }

    /**
     * A chain of d diamonds: x -> relu(x), tanh(x) -> add. Input-to-output paths: 2^d. With
     * memoized gradients one backward pass runs 3 steps per diamond plus one accumulation (x feeds
     * two consumers), plus the head: linear in d.
     */
    @Test
    void backwardCostIsLinearInDepthThoughPathsGrowExponentially() {
        long[] executions = new long[9];
        for (int d = 1; d <= 8; d++) {
            Model.Builder b = Model.builder(Shape.of(4));
            Node n = b.add(new Dense(4, 4), b.input());
            for (int i = 0; i < d; i++) {
                Node left = b.add(new Relu(), n);
                Node right = b.add(new Tanh(), n);
                n = b.add(new Add(), left, right);
            }
            try (Ops ops = new ReferenceOps(); Model net = b.build(n, 1); Plan plan = net.compileForTraining(ops, 2, 1)) {
                plan.input().copyFrom(new float[] {1, -2, 3, -4, 0.5f, 0.25f, -1, 2});
                plan.forward(true);
                plan.outputGradient().fill(1f);
                long before = plan.backwardExecutions();
                plan.backward();
                executions[d] = plan.backwardExecutions() - before;
                assertEquals(1L << d, paths(net), "paths through " + d + " diamonds");
            }
        }
        for (int d = 2; d <= 8; d++) {
            assertEquals(4, executions[d] - executions[d - 1], "each diamond adds 3 steps and 1 accumulation");
        }
        assertEquals(1 + 4 * 8, executions[8]);
    }

    /** Counts input-to-output paths by brute force (exponential: only for the small test graphs). */
    static long paths(Model net) {
        long[] count = new long[net.nodes().size()];
        count[0] = 1;
        for (Node n : net.nodes()) {
            for (Node in : n.inputs()) {
                count[n.index()] += count[in.index()];
            }
        }
        return count[net.output().index()];
    }

    /** Every parameter's gradient from a DAG with conv, pooling, LRN, concat and add, against finite differences of the loss. */
    @ParameterizedTest
    @MethodSource("backends")
    void wholeNetworkGradientsMatchFiniteDifferences(String backend) {
        Model.Builder b = Model.builder(Shape.of(2, 6, 6));
        Node conv = b.add(new Conv2d(2, 4, 3, 1, 1), b.input());
        Node act = b.add(new Tanh(), conv);
        Node pooled = b.add(new MaxPool2d(2, 2), act);
        Node averaged = b.add(new AvgPool2d(2, 2), act);
        Node joined = b.add(new Concat(), pooled, averaged);
        Node lrn = b.add(new Lrn(new dev.deepnet.ops.LrnSpec(3, 1f, 0.75f, 2f)), joined);
        Node flat = b.add(new Flatten(), lrn);
        Node h1 = b.add(new Dense(72, 6, Activation.SIGMOID), flat);
        Node h2 = b.add(new Dense(72, 6, Activation.TANH), flat); // smooth: a finite-difference step never crosses a kink
        Node sum = b.add(new Add(), h1, h2);
        Node out = b.add(new Dense(6, 3), sum);
        try (Ops ops = ops(backend); Model net = b.build(out, 11); Plan plan = net.compileForTraining(ops, 3, 1);
             Tensor target = Tensor.of(Shape.of(3, 3), 1, 0, 0, 0, 1, 0, 0, 0, 1)) {
            SplittableRandom r = new SplittableRandom(3);
            for (long i = 0; i < plan.input().size(); i++) {
                plan.input().setFlat(i, (float) r.nextDouble(-1, 1));
            }
            Loss loss = new SoftmaxCrossEntropy();
            plan.forward(true);
            loss.evaluate(plan.output(), target, plan.outputGradient());
            plan.backward();
            for (Parameter p : net.parameters()) {
                Tensor g = plan.gradient(p);
                for (int s = 0; s < 6; s++) {
                    long i = r.nextLong(p.shape().size());
                    float v = p.value().getFlat(i);
                    double h = 1e-3;
                    p.value().setFlat(i, (float) (v + h));
                    plan.forward(false);
                    double plus = loss.value(plan.output(), target);
                    p.value().setFlat(i, (float) (v - h));
                    plan.forward(false);
                    double minus = loss.value(plan.output(), target);
                    p.value().setFlat(i, v);
                    double fd = (plus - minus) / (2 * h);
                    double an = g.getFlat(i);
                    assertTrue(Math.abs(fd - an) <= 2e-3 + 1e-2 * Math.abs(an),
                            backend + ": d loss / d " + p + "[" + i + "] is " + an + " but finite differences give " + fd);
                }
            }
        }
    }

    @Test
    void oneSeedGivesTheSameWeightsBitForBit() {
        float[][] runs = new float[2][];
        for (int run = 0; run < 2; run++) {
            try (Ops ops = new OneDnnOps();
                 Model net = Model.sequential(Shape.of(6), 99, new Dense(6, 8, Activation.RELU), new Dropout(0.5),
                         new Dense(8, 2));
                 Plan plan = net.compileForTraining(ops, 5, 1234);
                 Tensor target = Tensor.allocate(Shape.of(5, 2))) {
                SplittableRandom r = new SplittableRandom(1);
                for (long i = 0; i < plan.input().size(); i++) {
                    plan.input().setFlat(i, (float) r.nextDouble());
                }
                for (long i = 0; i < target.size(); i++) {
                    target.setFlat(i, (float) r.nextDouble());
                }
                Sgd sgd = new Sgd(LearningRateSchedule.constant(0.1), 0.9, 1e-4);
                for (int i = 0; i < 50; i++) {
                    step(plan, new MeanSquaredError(), target, sgd);
                }
                List<Float> all = new ArrayList<>();
                for (Parameter p : net.parameters()) {
                    for (float v : p.value().toArray()) {
                        all.add(v);
                    }
                }
                runs[run] = new float[all.size()];
                for (int i = 0; i < all.size(); i++) {
                    runs[run][i] = all.get(i);
                }
            }
        }
        assertArrayEquals(runs[0], runs[1]);
    }

    @Test
    void dropoutDrawsAFreshMaskEachStepUsesItBackwardAndIsOffInInference() {
        try (Ops ops = new ReferenceOps();
             Model net = Model.sequential(Shape.of(1000), 1, new Dropout(0.3));
             Plan plan = net.compileForTraining(ops, 1, 42, true);
             Plan inference = net.compileForInference(ops, 1)) {
            plan.input().fill(1f);
            plan.forward(true);
            float[] first = plan.output().toArray();
            int dropped = 0;
            for (float v : first) {
                assertTrue(v == 0f || Math.abs(v - 1 / 0.7f) < 1e-6, "kept neurons are scaled by 1/(1-p): " + v);
                dropped += v == 0f ? 1 : 0;
            }
            assertTrue(dropped > 240 && dropped < 360, "about 30% dropped, got " + dropped);
            plan.outputGradient().fill(1f);
            plan.backward();
            float[] dx = plan.inputGradient().toArray();
            for (int i = 0; i < dx.length; i++) {
                assertEquals(first[i], dx[i], 1e-6, "backward uses the forward mask at " + i);
            }
            plan.forward(true);
            assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(plan.output().toArray()), "a fresh mask per step");
            inference.input().fill(1f);
            inference.forward(false);
            for (float v : inference.output().toArray()) {
                assertEquals(1f, v, "inference passes everything through");
            }
        }
    }

    @Test
    void frozenLayersGetNoGradientAndDoNotChange() {
        Dense first = new Dense(3, 4, Activation.TANH);
        try (Ops ops = new ReferenceOps(); Model net = Model.sequential(Shape.of(3), 5, first, new Dense(4, 2));
             Tensor target = Tensor.of(Shape.of(2, 2), 1, 0, 0, 1)) {
            first.freeze();
            float[] before = first.weight().value().toArray();
            try (Plan plan = net.compileForTraining(ops, 2, 1)) {
                plan.input().copyFrom(new float[] {1, 2, 3, -1, 0, 1});
                assertNull(plan.gradient(first.weight()));
                assertNull(plan.inputGradient());
                Sgd sgd = new Sgd(0.5);
                double start = step(plan, new MeanSquaredError(), target, sgd);
                double end = start;
                for (int i = 0; i < 100; i++) {
                    end = step(plan, new MeanSquaredError(), target, sgd);
                }
                assertTrue(end < start, "the trainable layer still learns: " + start + " -> " + end);
            }
            assertArrayEquals(before, first.weight().value().toArray());
        }
    }

    @Test
    void aFrozenWeightWithATrainableBiasTrainsOnlyTheBias() {
        Dense layer = new Dense(3, 2);
        try (Ops ops = new ReferenceOps(); Model net = Model.sequential(Shape.of(3), 5, layer);
             Tensor target = Tensor.of(Shape.of(1, 2), 1, -1)) {
            layer.weight().setFrozen(true);
            float[] weight = layer.weight().value().toArray();
            float[] bias = layer.bias().value().toArray();
            try (Plan plan = net.compileForTraining(ops, 1, 1)) {
                plan.input().copyFrom(new float[] {1, 2, 3});
                assertNull(plan.gradient(layer.weight()));
                step(plan, new MeanSquaredError(), target, new Sgd(0.1));
            }
            assertArrayEquals(weight, layer.weight().value().toArray());
            assertNotEquals(java.util.Arrays.toString(bias), java.util.Arrays.toString(layer.bias().value().toArray()));
        }
    }

    @Test
    void aTrainedLayerMovedIntoAnotherModelKeepsItsWeights() {
        Dense encoder = new Dense(10, 3, Activation.SIGMOID);
        float[] learned;
        try (Model autoencoder = Model.sequential(Shape.of(10), 1, encoder, new Dense(3, 10, Activation.SIGMOID))) {
            learned = encoder.weight().value().toArray();
            Model.Builder b = Model.builder(Shape.of(10));
            Node hidden = b.add(encoder.freeze(), b.input());
            Model classifier = b.build(b.add(new Dense(3, 3), hidden), 2);
            assertArrayEquals(learned, encoder.weight().value().toArray(), "building the new model does not re-initialise it");
            assertEquals(2, classifier.layers().size());
        }
    }

    @Test
    void shapesAreCheckedWhenTheModelIsBuiltNamingTheLayer() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Model.sequential(Shape.of(4), 1, new Dense(4, 6), new Dense(5, 2)));
        assertTrue(e.getMessage().contains("dense2: expects input (N, 5) but got (1, 6)"), e.getMessage());
        IllegalArgumentException conv = assertThrows(IllegalArgumentException.class,
                () -> Model.sequential(Shape.of(3, 8, 8), 1, new Conv2d(3, 4, 11, 1, 0)));
        assertTrue(conv.getMessage().startsWith("conv1: "), conv.getMessage());
        IllegalArgumentException flat = assertThrows(IllegalArgumentException.class,
                () -> Model.sequential(Shape.of(3, 8, 8), 1, new Conv2d(3, 4, 3, 1, 1), new Dense(256, 2)));
        assertTrue(flat.getMessage().contains("add a Flatten"), flat.getMessage());
    }

    @Test
    void theSummaryListsLayersShapesParametersAndFlops() {
        try (Model net = Model.sequential(Shape.of(1, 28, 28), 1, new Conv2d(1, 32, 5, 1, 2), new Relu(), new MaxPool2d(2, 2),
                new Flatten(), new Dense(32 * 14 * 14, 10))) {
            String s = net.summary();
            assertTrue(s.contains("conv1") && s.contains("(32, 28, 28)") && s.contains("832"), s);
            assertTrue(s.contains("dense1") && s.contains("62,730"), s);
            assertEquals(832 + 62_730, net.parameterCount());
            assertEquals(2L * 32 * 28 * 28 * 25 + 32L * 14 * 14 * 4 + 32L * 28 * 28 + 2L * 6272 * 10, net.flopsPerSample());
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void backwardIsRefusedUnlessTheLastForwardRecordedWhatItReads(String backend) {
        // Max pooling's argmax and dropout's mask are recorded only by forward(true); a backward
        // after forward(false) would read stale or empty ones and return wrong gradients silently.
        try (Ops ops = ops(backend);
             Model net = Model.sequential(Shape.of(1, 6, 6), 3, new Conv2d(1, 2, 3, 1, 1), new MaxPool2d(2, 2), new Flatten(),
                     new Dropout(0.5), new Dense(18, 2));
             Plan plan = net.compileForTraining(ops, 2, 5)) {
            SplittableRandom r = new SplittableRandom(4);
            for (long i = 0; i < plan.input().size(); i++) {
                plan.input().setFlat(i, (float) r.nextDouble(-1, 1));
            }
            plan.outputGradient().fill(1f);
            IllegalStateException never = assertThrows(IllegalStateException.class, plan::backward);
            assertTrue(never.getMessage().contains("forward(true)"), never.getMessage());
            plan.forward(true);
            plan.backward();
            Parameter w = net.parameters().get(0);
            float[] first = plan.gradient(w).toArray();
            plan.forward(false);
            IllegalStateException after = assertThrows(IllegalStateException.class, plan::backward);
            assertTrue(after.getMessage().contains("forward(false)"), after.getMessage());
            assertArrayEquals(first, plan.gradient(w).toArray(), "a refused backward writes nothing");
            plan.forward(true);
            plan.backward(); // a new mask is drawn; backward runs again
            plan.backward(); // and may repeat on the same forward pass
        }
    }

    @Test
    void closingAPlanWhileAnOpHoldsOneOfItsBuffersFreesNothing() {
        try (Ops ops = new ReferenceOps(); Model net = Model.sequential(Shape.of(3), 1, new Dense(3, 2)); Plan plan = net.compileForInference(ops, 1)) {
            plan.input().fill(1f);
            plan.output().lifetime().acquire("a call on another thread"); // what an op on plan.output() does
            IllegalStateException e = assertThrows(IllegalStateException.class, plan::close);
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
            plan.forward(false); // nothing was freed: the plan still runs
            plan.output().lifetime().release();
            plan.close();
            assertThrows(IllegalStateException.class, () -> plan.forward(false));
        }
    }
}
