package dev.deepnet.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.nn.Softmax;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The one classifier abstraction: ClassOutput's reading of outputs, BatchPlans, Classifier, on both backends. */
class ClassifierTest {

    static Stream<Arguments> backends() {
        return Stream.of(Arguments.of("reference", (Supplier<Ops>) ReferenceOps::new),
                Arguments.of("onednn", (Supplier<Ops>) () -> new OneDnnOps(1, 0))); // every call on oneDNN, however small
    }

    /** A small convnet on 12x12 grey images with 4 raw class scores. */
    static Model convnet(long seed) {
        return Model.sequential(Shape.of(1, 12, 12), seed, new Conv2d(1, 4, 3, 1, 1), new Relu(), new MaxPool2d(2, 2),
                new Flatten(), new Dense(4 * 6 * 6, 4));
    }

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble();
        }
        return x;
    }

    /** The oracle: the softmax of one sample's raw scores, written out, from a batch-1 plan of its own. */
    static float[] softmaxOfScores(Model net, Ops ops, float[] sample) {
        try (dev.deepnet.nn.Plan plan = net.compileForInference(ops, 1)) {
            plan.input().copyFrom(sample);
            plan.forward(false);
            return SoftmaxOracle.of(plan.output().toArray());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void everyBatchSizeGivesTheSoftmaxOfEachSamplesOwnScores(String name, Supplier<Ops> backend) {
        try (Model net = convnet(3); Ops ops = backend.get(); Classifier c = new Classifier(net, ops, 5)) {
            assertEquals(4, c.classes());
            assertEquals(Shape.of(1, 12, 12), c.sampleShape());
            for (int count : new int[] {1, 2, 3, 4, 5, 7, 11}) { // padded to 1, 2, 4, 4, 5, 5+2, 5+5+1
                float[] samples = random(count * 144, count);
                float[] p = c.probabilities(samples, count);
                assertEquals(count * 4, p.length);
                for (int i = 0; i < count; i++) {
                    float[] e = softmaxOfScores(net, ops, Arrays.copyOfRange(samples, i * 144, (i + 1) * 144));
                    double sum = 0;
                    for (int k = 0; k < 4; k++) {
                        assertEquals(e[k], p[i * 4 + k], 1e-5, name + ": batch of " + count + ", sample " + i + ", class " + k);
                        sum += p[i * 4 + k];
                    }
                    assertEquals(1.0, sum, 1e-5);
                }
            }
            assertTrue(c.plansCompiled() <= 4, "plans for 1, 2, 4 and 5 only: " + c.plansCompiled());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void aModelThatEndsInSoftmaxIsNotSoftmaxedTwice(String name, Supplier<Ops> backend) {
        try (Model net = Model.sequential(Shape.of(4), 2, new Dense(4, 3), new Softmax()); Ops ops = backend.get();
             Classifier c = new Classifier(net, ops, 2); dev.deepnet.nn.Plan direct = net.compileForInference(ops, 1)) {
            assertTrue(c.output().outputsProbabilities());
            float[] x = {0.5f, -1, 2, 0.25f};
            direct.input().copyFrom(x);
            direct.forward(false);
            float[] p = c.probabilities(x, 1);
            assertArrayEquals(direct.output().toArray(), p, 1e-6f, name + ": the Softmax layer's output, as it is");
            // A second softmax would flatten these towards 1/3: they would no longer be the layer's output.
            Classification one = c.classify(x);
            assertEquals(p[one.best().index()], one.best().probability());
        }
    }

    @Test
    void rawScoresAndProbabilitiesReadTheSameWayWhateverTheLastLayer() {
        try (Model scores = Model.sequential(Shape.of(2), 1, new Dense(2, 3));
             Model probs = Model.sequential(Shape.of(2), 1, new Dense(2, 3), new Softmax())) {
            ClassOutput raw = ClassOutput.of(scores);
            ClassOutput soft = ClassOutput.of(probs, List.of("a", "b", "c"));
            assertFalse(raw.outputsProbabilities());
            assertTrue(soft.outputsProbabilities());
            float[] logits = {1, 2, 3, 0, 0, 0};
            float[] p = new float[6];
            raw.toProbabilities(logits, 2, p);
            double e = Math.exp(1) + Math.exp(2) + Math.exp(3);
            assertEquals(Math.exp(3) / e, p[2], 1e-7);
            assertEquals(1.0 / 3, p[4], 1e-7);
            float[] again = new float[6];
            soft.toProbabilities(p, 2, again);
            assertArrayEquals(p, again, "probabilities pass through unchanged");
            double[] d = new double[6];
            raw.toProbabilities(new float[] {1000, 0, -1000, 0, 0, 0}, 2, d);
            assertEquals(1.0, d[0], 1e-12, "no overflow for large scores");
        }
    }

    @Test
    void classificationsRankWithLabelsAndTiesGoToTheLowerClass() {
        try (Model net = Model.sequential(Shape.of(2), 1, new Dense(2, 6))) {
            ClassOutput out = ClassOutput.of(net, List.of("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal"));
            float[] p = {0.1f, 0.3f, 0.05f, 0.3f, 0.2f, 0.05f};
            Classification c = out.classification(p, 0);
            assertEquals(new ClassProbability(1, "Trouser", 0.3f), c.best());
            assertEquals(List.of(1, 3, 4, 0, 2), c.top(5).stream().map(ClassProbability::index).toList());
            assertEquals(6, c.top(100).size(), "all the classes when k exceeds them");
            assertEquals("Trouser 0.30, Dress 0.30, Coat 0.20, T-shirt 0.10, Pullover 0.05", c.toString());
            assertFalse(c.converted());
            p[1] = 0.9f; // the classification holds its own copy
            assertEquals(0.3f, c.probability(1));
            assertThrows(IllegalArgumentException.class, () -> c.top(0));

            assertEquals(3, out.classOf(" dress "));
            assertEquals(5, out.classOf("5"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> out.classOf("Bag"));
            assertTrue(e.getMessage().contains("Bag is not a class of the model: give an index in [0, 6) or one of T-shirt, Trouser"),
                    e.getMessage());
            assertEquals("class 2", ClassOutput.of(net).label(2), "numbered when the file names none");
        }
    }

    @Test
    void argmaxAndTopKAreTheSharedRules() {
        float[] rows = {0, 2, 2, 1, /* row 2 */ 5, 4, 3, 5};
        assertArrayEquals(new int[] {1, 0}, ClassOutput.argmax(rows, 2), "ties to the lower class");
        assertTrue(ClassOutput.inTopK(rows, 0, 4, 1, 2));
        assertFalse(ClassOutput.inTopK(rows, 0, 4, 1, 1), "a label tied with the top counts as outside top-1");
        assertTrue(ClassOutput.inTopK(rows, 4, 4, 2, 4));
        assertFalse(ClassOutput.inTopK(rows, 4, 4, 2, 3));
    }

    @Test
    void theGradientOfMinusLogPIsPMinusOneHotOnScoresAndMinusOneOverPOnProbabilities() {
        try (Model scores = Model.sequential(Shape.of(2), 1, new Dense(2, 3));
             Model probs = Model.sequential(Shape.of(2), 1, new Dense(2, 3), new Softmax())) {
            double[] p = {0.2, 0.5, 0.3};
            float[] g = new float[3];
            ClassOutput.of(scores).negativeLogProbabilityGradient(p, 1, new int[] {1}, g);
            assertArrayEquals(new float[] {0.2f, -0.5f, 0.3f}, g, 1e-7f);
            ClassOutput.of(probs).negativeLogProbabilityGradient(p, 1, new int[] {1}, g);
            assertArrayEquals(new float[] {0, -2, 0}, g, 1e-7f);
        }
    }

    @Test
    void batchPlansPadToPowersOfTwoAndKeepABoundedNumber() {
        try (Model net = convnet(1); Ops ops = new ReferenceOps(); BatchPlans plans = BatchPlans.forInference(net, ops, 100, 3)) {
            assertEquals(1, plans.batchSizeFor(1));
            assertEquals(4, plans.batchSizeFor(3));
            assertEquals(64, plans.batchSizeFor(33));
            assertEquals(64, plans.batchSizeFor(64));
            assertEquals(100, plans.batchSizeFor(65), "the largest plan is maxBatch");
            assertThrows(IllegalArgumentException.class, () -> plans.batchSizeFor(101));
            assertThrows(IllegalArgumentException.class, () -> plans.batchSizeFor(0));
            for (int n : new int[] {1, 2, 3, 4, 1, 2}) {
                assertEquals(plans.batchSizeFor(n), plans.plan(n).batchSize());
            }
            assertEquals(3, plans.size(), "at most 3 kept");
            // 1, 2 and 4 (for 3) compiled; 4, 1 and 2 then hit. Least recently used first: 4, 1, 2.
            assertEquals(3, plans.compiled());
            plans.plan(8); // evicts the least recently used, 4
            plans.plan(4);
            assertEquals(5, plans.compiled(), "a closed plan is compiled again when asked for again");
            assertEquals(3, plans.size());
        }
        try (Model net = convnet(1); Ops ops = new ReferenceOps(); BatchPlans grad = BatchPlans.forInputGradient(net, ops, 2)) {
            assertEquals(3, grad.plan(3).batchSize(), "input-gradient plans have the size asked for");
            assertTrue(grad.plan(3).isInputGradientOnly());
        }
    }

    @Test
    void modelsThatAreNotClassifiersAndBadBatchesAreNamed() {
        try (Ops ops = new ReferenceOps();
             Model conv = Model.sequential(Shape.of(1, 6, 6), 1, new Conv2d(1, 2, 3, 1, 1));
             Model one = Model.sequential(Shape.of(4), 1, new Flatten(), new Dense(4, 1))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Classifier(conv, ops, 4));
            assertTrue(e.getMessage().contains("one score per class") && e.getMessage().contains("(2, 6, 6)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new Classifier(one, ops, 4));
            assertTrue(e.getMessage().contains("at least 2 classes"), e.getMessage());
        }
        try (Model net = convnet(2); Ops ops = new ReferenceOps()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Classifier(net, List.of("a", "b"), ops, 4, 8));
            assertTrue(e.getMessage().contains("2 class labels for a model that outputs 4 classes"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new Classifier(net, ops, 0));
            assertTrue(e.getMessage().contains("maxBatch must be >= 1"), e.getMessage());
            Classifier c = new Classifier(net, ops, 4);
            e = assertThrows(IllegalArgumentException.class, () -> c.probabilities(new float[144], 2));
            assertTrue(e.getMessage().contains("for 2 samples of (1, 12, 12) expected 288 floats, got 144"), e.getMessage());
            c.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> c.probabilities(new float[144], 1));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        }
    }
}
