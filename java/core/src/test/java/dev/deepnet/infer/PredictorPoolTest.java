package dev.deepnet.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Softmax;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Predictor's pool: most recently used worker first, bounded workers and plans, statistics, ownership. */
class PredictorPoolTest {

    static Stream<Arguments> backends() {
        return Stream.of(Arguments.of("reference", (IntFunction<Ops>) threads -> new ReferenceOps()),
                Arguments.of("onednn", (IntFunction<Ops>) OneDnnOps::new));
    }

    static Model mlp() {
        return Model.sequential(Shape.of(16), 3, new Dense(16, 32, Activation.RELU), new Dense(32, 5));
    }

    /** {@code callers} threads, each making {@code calls} single-sample predictions, all started together. */
    static void concurrently(Predictor p, int callers, int calls) throws InterruptedException {
        CyclicBarrier start = new CyclicBarrier(callers);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < calls; i++) {
                        p.predict(new float[16]);
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void aSequentialCallerAfterConcurrentOnesStaysOnOneWorkerAndCompilesOnePlan(String name, IntFunction<Ops> ops)
            throws InterruptedException {
        try (Model net = mlp(); Predictor p = Predictor.builder(net).ops(ops).maxBatch(8).threads(4, 1).build()) {
            p.warmup();
            concurrently(p, 16, 50);
            assertEquals(4, p.workers(), "16 callers, a budget of 4 single-threaded workers");
            long before = p.stats().plansCompiled();
            assertEquals(4, before, "each worker's single-sample plan");
            float[] batch = new float[8 * 16];
            for (int i = 0; i < 20; i++) {
                p.predict(batch, 8);
            }
            // First in, first out would rotate the calls over all four workers, each compiling its batch-8 plan.
            assertEquals(before + 1, p.stats().plansCompiled(), name + ": one worker, one new plan");
        }
    }

    @Test
    void aWorkerKeepsAtMostItsPlansAndRecompilesWhatItClosed() {
        try (Model net = mlp(); Predictor p = Predictor.builder(net).ops(threads -> new ReferenceOps()).maxBatch(16).threads(1, 1)
                .maxPlansPerWorker(2).build()) {
            p.warmup();
            assertEquals(1, p.stats().plansCompiled());
            for (int n : new int[] {4, 1, 4, 3, 1}) { // 3 runs on the batch-4 plan
                p.predict(new float[n * 16], n);
            }
            assertEquals(2, p.stats().plansCompiled(), "plans for 1 and 4 kept: nothing more compiled");
            p.predict(new float[8 * 16], 8); // a third plan: the least recently used (4) closed
            p.predict(new float[4 * 16], 4); // compiled again, closing 1
            p.predict(new float[16], 1);
            assertEquals(5, p.stats().plansCompiled());
            assertEquals(2, p.maxPlansPerWorker());
        }
    }

    @Test
    void statisticsCountCallsSamplesErrorsLatencyAndWaiting() throws InterruptedException {
        try (Model net = mlp(); Predictor p = Predictor.builder(net).ops(threads -> new ReferenceOps()).maxBatch(4).threads(2, 1).build()) {
            p.warmup();
            Predictor.Stats none = p.stats();
            assertEquals(0, none.calls(), "warm-up calls are not counted");
            assertEquals(0, none.latency().count());
            p.predict(new float[16]);
            p.predict(new float[7 * 16], 7);
            assertThrows(IllegalArgumentException.class, () -> p.predict(new float[15]));
            concurrently(p, 4, 10);
            Predictor.Stats s = p.stats();
            assertEquals(42, s.calls());
            assertEquals(1 + 7 + 40, s.samples());
            assertEquals(1, s.errors());
            assertEquals(2, s.workers());
            assertEquals(42, s.latency().count());
            assertEquals(42, s.waiting().count());
            assertTrue(s.latency().p50().compareTo(s.latency().p99()) <= 0);
            assertTrue(s.latency().p99().compareTo(s.latency().max()) <= 0);
            assertTrue(s.waiting().max().compareTo(s.latency().max()) <= 0, "waiting is part of a call's latency");
            assertEquals(42, p.stats().latency().count(), "a snapshot does not change");
            p.predict(new float[16]);
            assertEquals(42, s.calls());
            assertEquals(43, p.stats().calls());
            assertTrue(s.toString().startsWith("42 calls, 48 samples, 1 errors, 2 workers"), s.toString());
        }
    }

    @Test
    void aWorkerThatCannotBeMadeFailsItsCallAndIsCounted() {
        try (Model net = mlp(); Predictor p = Predictor.builder(net).ops(threads -> {
            throw new IllegalStateException("no ops today");
        }).threads(1, 1).build()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.predict(new float[16]));
            assertEquals("no ops today", e.getMessage());
            assertEquals(1, p.stats().errors());
            assertEquals(1, p.stats().calls());
            assertEquals(0, p.workers());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void classifyGivesLabelledProbabilitiesAndASoftmaxModelIsNotSoftmaxedAgain(String name, IntFunction<Ops> ops) {
        List<String> labels = List.of("a", "b", "c", "d", "e");
        float[] x = new float[16];
        for (int i = 0; i < 16; i++) {
            x[i] = (float) Math.cos(i);
        }
        try (Model raw = mlp(); Predictor p = Predictor.builder(raw).ops(ops).labels(labels).build()) {
            Classification c = p.classify(x);
            assertArrayEquals(SoftmaxOracle.of(p.predict(x)), c.probabilities(), 1e-6f);
            assertEquals(labels.get(c.best().index()), c.best().label());
            assertEquals(5, c.top(5).size());
            assertEquals(labels, p.labels());
            List<Classification> two = p.classify(concat(x, x), 2);
            assertArrayEquals(c.probabilities(), two.get(1).probabilities(), 1e-6f);
        }
        try (Model soft = Model.sequential(Shape.of(16), 3, new Dense(16, 5), new Softmax());
             Predictor p = Predictor.builder(soft).ops(ops).build()) {
            assertArrayEquals(p.predict(x), p.classify(x).probabilities(), name + ": the Softmax layer's output as it is");
            assertEquals("class 4", p.labels().get(4));
        }
        try (Model notOne = Model.sequential(Shape.of(16), 3, new Dense(16, 1)); Predictor p = Predictor.builder(notOne).ops(ops).build()) {
            assertFalse(p.isClassifier());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.classify(x));
            assertTrue(e.getMessage().contains("not a classifier: a classifier needs at least 2 classes"), e.getMessage());
            assertEquals(1, p.predict(x).length, "raw outputs still work");
        }
    }

    static float[] concat(float[] a, float[] b) {
        float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aPredictorThatOwnsItsModelClosesIt() {
        Model net = mlp();
        Predictor p = Predictor.builder(net).ops(threads -> new ReferenceOps()).ownModel().build();
        p.predict(new float[16]);
        p.close();
        assertFalse(net.lifetime().isAlive(), "closed with the predictor");
        p.close(); // a second close does nothing
        try (Model kept = mlp()) {
            new Predictor(kept, threads -> new ReferenceOps(), 4, 1, 1).close();
            assertTrue(kept.lifetime().isAlive(), "a model it does not own stays open");
            Model owned = mlp();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Predictor.builder(owned).labels(List.of("a")).ownModel().build());
            assertTrue(e.getMessage().contains("1 class labels for a model that outputs 5 classes"), e.getMessage());
            assertFalse(owned.lifetime().isAlive(), "an owned model is closed when the predictor cannot be built");
        }
    }
}
