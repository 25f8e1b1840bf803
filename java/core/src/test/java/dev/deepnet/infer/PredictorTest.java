package dev.deepnet.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class PredictorTest {

    static Model mlp() {
        return Model.sequential(Shape.of(16), 3, new Dense(16, 32, Activation.RELU), new Dense(32, 32, Activation.TANH),
                new Dense(32, 5));
    }

    @Test
    void eightThreadsTimesTenThousandPredictionsEqualTheSingleThreadedResults() throws Exception {
        try (Model net = mlp(); Predictor predictor = new Predictor(net, OneDnnOps::new, 8)) {
            predictor.warmup();
            SplittableRandom r = new SplittableRandom(1);
            float[][] inputs = new float[100][16];
            float[][] expected = new float[100][];
            for (int i = 0; i < inputs.length; i++) {
                for (int j = 0; j < 16; j++) {
                    inputs[i][j] = (float) r.nextDouble(-1, 1);
                }
                expected[i] = predictor.predict(inputs[i]);
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int offset = t;
                    results.add(pool.submit(() -> {
                        int checked = 0;
                        for (int k = 0; k < 10_000; k++) {
                            int i = (k * 7 + offset) % inputs.length;
                            assertArrayEquals(expected[i], predictor.predict(inputs[i]), "sample " + i);
                            checked++;
                        }
                        return checked;
                    }));
                }
                for (Future<Integer> f : results) {
                    assertEquals(10_000, f.get());
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(predictor.workers() <= 9, "workers: " + predictor.workers());
        }
    }

    @Test
    void batchCallsMatchSingleCalls() {
        try (Model net = mlp(); Predictor predictor = new Predictor(net, OneDnnOps::new, 4)) {
            SplittableRandom r = new SplittableRandom(2);
            float[] batch = new float[11 * 16]; // two full batches of 4 and a tail of 3
            for (int i = 0; i < batch.length; i++) {
                batch[i] = (float) r.nextDouble(-1, 1);
            }
            float[] out = predictor.predict(batch, 11);
            for (int s = 0; s < 11; s++) {
                float[] one = predictor.predict(java.util.Arrays.copyOfRange(batch, s * 16, s * 16 + 16));
                float[] fromBatch = java.util.Arrays.copyOfRange(out, s * 5, s * 5 + 5);
                for (int j = 0; j < 5; j++) {
                    assertEquals(one[j], fromBatch[j], 1e-5, "sample " + s + " output " + j);
                }
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> predictor.predict(new float[15]));
            assertTrue(e.getMessage().contains("16 floats, got 15"), e.getMessage());
        }
    }

    @Test
    void aClosedPredictorRefusesCalls() {
        try (Model net = mlp()) {
            Predictor p = new Predictor(net, OneDnnOps::new, 2);
            p.close();
            assertThrows(IllegalStateException.class, () -> p.predict(new float[16]));
        }
    }

    @Test
    void warmupMakesEveryWorkerAndConfinedMemoryIsServedToo() {
        try (Model net = mlp(); Predictor predictor = new Predictor(net, threads -> new ReferenceOps(), 4, 2, 1)) {
            predictor.warmup();
            assertEquals(2, predictor.workers(), "every worker made before the first call");
            float[] samples = new float[3 * 16];
            for (int i = 0; i < samples.length; i++) {
                samples[i] = (float) Math.sin(i);
            }
            float[] expected = predictor.predict(samples, 3);
            try (java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
                java.lang.foreign.MemorySegment in = confined.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, samples);
                java.lang.foreign.MemorySegment out = confined.allocate(java.lang.foreign.ValueLayout.JAVA_FLOAT, expected.length);
                predictor.predict(in, 3, out); // only this thread may touch them; the workers run elsewhere
                assertArrayEquals(expected, out.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
            }
        }
    }
}
