package dev.deepnet.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.deepnet.dnnl.OpenMp;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Threads are a budget: an Ops instance runs oneDNN on the threads it was given, and a
 * Predictor's workers never use more than the predictor's budget. OpenMP starts its team threads
 * from the thread that calls oneDNN, and Linux gives them that thread's name, so counting the
 * process's threads that carry a caller's name counts the caller and every OpenMP thread working
 * for it.
 */
class ThreadBudgetTest {

    /** Threads of this process whose name starts with {@code prefix} (Linux: /proc/self/task/N/comm). */
    static long threadsNamed(String prefix) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).strip().startsWith(prefix);
                } catch (IOException gone) { // the thread ended meanwhile
                    return false;
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code body} on a new thread called {@code name}, then returns how many threads carry that name. */
    static long threadsWhileRunning(String name, Runnable body) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[] counted = new long[1];
        Thread t = new Thread(() -> {
            try {
                body.run();
                counted[0] = threadsNamed(name);
            } catch (Throwable e) {
                failure.set(e);
            }
        }, name);
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        return counted[0];
    }

    static void bigMatmul(OneDnnOps ops) {
        try (Tensor a = Tensor.allocate(Shape.of(256, 256)); Tensor c = Tensor.allocate(Shape.of(256, 256))) {
            a.fill(0.5f);
            ops.matmul(a, a, c);
        }
    }

    @Test
    void opsRunOneDnnOnTheThreadsTheyAreGiven() throws InterruptedException {
        assumeTrue(OpenMp.isAvailable() && OpenMp.processors() >= 2, "needs OpenMP and two processors");
        long one = threadsWhileRunning("budget-one", () -> {
            try (OneDnnOps ops = new OneDnnOps(1)) {
                bigMatmul(ops);
                assertEquals(1, OpenMp.threadsForThisThread());
            }
        });
        assertEquals(1, one, "one thread: the caller alone, no OpenMP team");
        long two = threadsWhileRunning("budget-two", () -> {
            try (OneDnnOps ops = new OneDnnOps(2)) {
                bigMatmul(ops);
                assertEquals(2, OpenMp.threadsForThisThread());
            }
        });
        assertEquals(2, two, "two threads: the caller and one OpenMP thread");
    }

    static Model mlp() {
        return Model.sequential(Shape.of(64), 3, new Dense(64, 128, Activation.RELU), new Dense(128, 128, Activation.RELU),
                new Dense(128, 10));
    }

    /**
     * 16 callers, each predicting 200 times; returns how many threads carry the callers' names and
     * how many the predictor's workers' names (with their OpenMP teams) at the end.
     */
    static long[] hammer(Predictor predictor, float[] sample, float[] expected) throws InterruptedException {
        List<Thread> callers = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[] counted = new long[2];
        java.util.concurrent.CyclicBarrier done = new java.util.concurrent.CyclicBarrier(16, () -> {
            counted[0] = threadsNamed("caller-");
            counted[1] = threadsNamed("deepnet-predict"); // Linux keeps 15 characters of a thread's name
        });
        for (int c = 0; c < 16; c++) {
            Thread t = new Thread(() -> {
                try {
                    for (int i = 0; i < 200; i++) {
                        assertArrayEquals(expected, predictor.predict(sample));
                    }
                    done.await(); // every caller alive while the threads are counted
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, "caller-" + c);
            callers.add(t);
            t.start();
        }
        for (Thread t : callers) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        return counted;
    }

    @Test
    void aPredictorsWorkersNeverUseMoreThreadsThanItsBudget() throws InterruptedException {
        assumeTrue(OpenMp.isAvailable(), "needs OpenMP");
        float[] sample = new float[64];
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < sample.length; i++) {
            sample[i] = (float) r.nextDouble(-1, 1);
        }
        try (Model net = mlp()) {
            float[] expected;
            try (Predictor reference = new Predictor(net, OneDnnOps::new, 1, 1, 1)) {
                expected = reference.predict(sample);
            }
            // Budget 2, one thread per worker: two workers, each on its own thread, and no OpenMP team at all.
            try (Predictor p = new Predictor(net, OneDnnOps::new, 1, 2, 1)) {
                assertEquals(2, p.maxWorkers());
                long[] threads = hammer(p, sample, expected);
                assertEquals(16, threads[0], "the callers compute nothing themselves");
                assertTrue(threads[1] <= 2, "the workers and their OpenMP teams: " + threads[1] + " threads for a budget of 2");
                assertTrue(p.workers() <= 2, "workers: " + p.workers());
            }
            // Budget 2 in one worker of two threads: one call at a time, on its thread and one OpenMP thread.
            try (Predictor p = new Predictor(net, OneDnnOps::new, 1, 2, 2)) {
                long[] threads = hammer(p, sample, expected);
                assertEquals(2, threads[1], "one worker thread and its OpenMP thread");
                assertEquals(1, p.workers());
            }
        }
    }
}
