package dev.deepnet.infer;

import dev.deepnet.nativelib.Lifetime;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * Inference for services: call it from as many threads as you like. The model's weights are
 * shared and only read; each call borrows a worker (its own {@link Ops} and inference plans, for
 * one sample and for up to {@code maxBatch}) and returns it, so there is no
 * one-predictor-per-thread rule and no per-call native allocation once the workers are warm.
 *
 * <p><b>Threads are a budget.</b> A predictor computes on at most {@link #threads()} threads in
 * all: each worker runs oneDNN on {@link #threadsPerWorker()} of them, on a thread of its own, and
 * at most {@code threads / threadsPerWorker} workers exist. Calls queue for the next free worker in
 * the order they come (first come, first served: no caller waits behind a later one), and a
 * worker goes from one call straight to the next, so under load the cores never idle between
 * calls waiting for a woken caller. The default gives every core its own single-threaded worker,
 * which serves many concurrent callers best (small requests gain little from a second thread,
 * and OpenMP teams on cores that are already busy slow everyone down); a predictor for one caller
 * with large batches does better with {@code threadsPerWorker == threads}. Every worker has the
 * same thread count, so a prediction does not depend on which worker made it. {@link #warmup}
 * creates a worker ahead of the first call (oneDNN builds its kernels then, not on a user's
 * request).
 *
 * <p>Do not train the model while predicting: the weights must not change under readers. Close a
 * predictor when done: its worker threads (daemons) and their native memory live until then.
 */
public final class Predictor implements AutoCloseable {

    private final Model model;
    private final IntFunction<Ops> opsFactory; // threads per worker -> a worker's ops
    private final int maxBatch;
    private final int threads;
    private final int threadsPerWorker;
    /** threads / threadsPerWorker threads, each owning one worker; calls wait in its queue in arrival order. */
    private final ThreadPoolExecutor pool;
    private final List<Worker> all = new ArrayList<>(); // guarded by itself
    /** Held by every call: {@link #close} waits for the calls running and refuses new ones. */
    private final Lifetime lifetime = new Lifetime();
    /** Counted down when the first close has freed every worker: later closes wait for it. */
    private final java.util.concurrent.CountDownLatch freed = new java.util.concurrent.CountDownLatch(1);

    /** One thread's means to run the model. */
    private final class Worker implements AutoCloseable {
        final Ops ops;
        final Plan single;
        Plan batch; // (maxBatch, ...), built on first batch call
        Plan tail; // the last batch size that was not maxBatch, rebuilt when it changes

        Worker() {
            ops = opsFactory.apply(threadsPerWorker);
            try {
                single = model.compileForInference(ops, 1);
            } catch (RuntimeException | Error e) {
                ops.close(); // a worker that cannot be made leaves nothing behind
                throw e;
            }
        }

        Plan planFor(int count) {
            if (count == 1) {
                return single;
            }
            if (count == maxBatch) {
                if (batch == null) {
                    batch = model.compileForInference(ops, maxBatch);
                }
                return batch;
            }
            if (tail == null || tail.batchSize() != count) {
                Plan old = tail;
                tail = null; // never left pointing at a closed plan, whether or not the new one compiles
                if (old != null) {
                    old.close();
                }
                tail = model.compileForInference(ops, count);
            }
            return tail;
        }

        @Override
        public void close() {
            single.close();
            if (batch != null) {
                batch.close();
            }
            if (tail != null) {
                tail.close();
            }
            ops.close();
        }
    }

    /**
     * A predictor on the selected backend ({@link Backend#selected()}), batches of up to
     * {@code maxBatch}, computing on every core ({@link #defaultThreads()}), one thread per worker.
     */
    public Predictor(Model model, int maxBatch) {
        this(model, maxBatch, defaultThreads(), 1);
    }

    /**
     * A predictor on the selected backend that computes on at most {@code threads} threads, in
     * workers of {@code threadsPerWorker} threads each ({@code threadsPerWorker} divides into
     * {@code threads}; the remainder is left unused).
     */
    public Predictor(Model model, int maxBatch, int threads, int threadsPerWorker) {
        this(model, Backend.selected()::newOps, maxBatch, threads, threadsPerWorker);
    }

    /**
     * A predictor whose workers' ops come from {@code opsFactory}, which is given the threads
     * per worker; at most {@code threads / threadsPerWorker} workers run at once.
     */
    public Predictor(Model model, IntFunction<Ops> opsFactory, int maxBatch, int threads, int threadsPerWorker) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        if (threadsPerWorker < 1 || threads < threadsPerWorker) {
            throw new IllegalArgumentException("need 1 <= threadsPerWorker <= threads, got threadsPerWorker " + threadsPerWorker
                    + " and threads " + threads);
        }
        this.model = model;
        this.opsFactory = opsFactory;
        this.maxBatch = maxBatch;
        this.threads = threads;
        this.threadsPerWorker = threadsPerWorker;
        AtomicInteger number = new AtomicInteger();
        int workers = threads / threadsPerWorker;
        this.pool = new ThreadPoolExecutor(workers, workers, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), task -> {
            Thread t = new WorkerThread(task, "deepnet-predictor-" + number.incrementAndGet());
            t.setDaemon(true); // a predictor left open does not keep the JVM alive
            return t;
        });
    }

    /** Stands for "some thread other than the caller" in segment accessibility checks; never started. */
    private static final Thread ANOTHER_THREAD = new Thread(() -> { }, "deepnet-predictor-probe");

    /** A predictor thread and the worker it owns (made by its first call, on it). */
    private static final class WorkerThread extends Thread {
        Worker worker;

        WorkerThread(Runnable task, String name) {
            super(task, name);
        }
    }

    /** The calling worker thread's worker, made on first use. */
    private Worker worker() {
        WorkerThread t = (WorkerThread) Thread.currentThread();
        if (t.worker == null) {
            Worker w = new Worker();
            synchronized (all) {
                all.add(w);
            }
            t.worker = w;
        }
        return t.worker;
    }

    /**
     * Runs {@code work} on the next free worker and returns its result, holding this predictor
     * meanwhile (so {@link #close} waits for it). The caller waits even when interrupted: the
     * worker writes into the caller's buffers, so the call must not return before it has.
     */
    private <T> T onWorker(Function<Worker, T> work) {
        lifetime.acquire("this Predictor");
        try {
            Future<T> result = pool.submit(() -> work.apply(worker()));
            boolean interrupted = false;
            try {
                for (;;) {
                    try {
                        return result.get();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException("a prediction failed: " + cause, cause);
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        } finally {
            lifetime.release();
        }
    }

    /**
     * A predictor whose workers' ops come from {@code opsFactory} with whatever threads those ops
     * use; at most {@link #defaultThreads()} workers run at once (ops that each use every core
     * then oversubscribe them: prefer the constructors that take a thread budget).
     */
    public Predictor(Model model, Supplier<Ops> opsFactory, int maxBatch) {
        this(model, threads -> opsFactory.get(), maxBatch, defaultThreads(), 1);
    }

    /** The cores this JVM may use: the default thread budget. */
    public static int defaultThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** The most threads this predictor computes on at once. */
    public int threads() {
        return threads;
    }

    /** The threads each worker's oneDNN calls use. */
    public int threadsPerWorker() {
        return threadsPerWorker;
    }

    /** The most workers that exist and run at once: {@code threads / threadsPerWorker}. */
    public int maxWorkers() {
        return threads / threadsPerWorker;
    }

    /** Floats per input sample. */
    public long inputSize() {
        return model.sampleShape().size();
    }

    /** Floats per output sample. */
    public long outputSize() {
        return model.shapes(1)[model.output().index()].size();
    }

    /** Creates a worker and runs it once on zeros, so the first real call pays no set-up. */
    public void warmup() {
        // One task per worker thread, each waiting for all to start, so that every worker (not the
        // same one again) is made and runs once before the first real call.
        int workers = maxWorkers();
        pool.prestartAllCoreThreads();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(workers);
        List<Thread> warmers = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < workers; i++) {
            Thread t = new Thread(() -> {
                try {
                    onWorker(w -> {
                        started.countDown();
                        try {
                            started.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        w.single.input().fill(0f);
                        w.single.forward(false);
                        return null;
                    });
                } catch (RuntimeException | Error e) {
                    failures.add(e);
                }
            }, "deepnet-predictor-warmup");
            warmers.add(t);
            t.start();
        }
        for (Thread t : warmers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!failures.isEmpty()) {
            Throwable first = failures.get(0);
            if (first instanceof RuntimeException r) {
                throw r;
            }
            throw (Error) first;
        }
    }

    /** The output for one sample ({@link #inputSize()} floats). */
    public float[] predict(float[] sample) {
        if (sample.length != inputSize()) {
            throw new IllegalArgumentException("a sample of " + model.sampleShape() + " has " + inputSize() + " floats, got "
                    + sample.length);
        }
        return onWorker(w -> {
            w.single.input().copyFrom(sample);
            w.single.forward(false);
            return w.single.output().toArray();
        });
    }

    /**
     * Outputs for {@code count} samples laid out one after another in {@code samples} (native or
     * heap), written into {@code outputs} ({@code count * outputSize()} floats): the samples are
     * copied once into the plan, the outputs once out of it.
     */
    public void predict(MemorySegment samples, int count, MemorySegment outputs) {
        long in = inputSize() * Float.BYTES;
        long out = outputSize() * Float.BYTES;
        if (count < 1 || samples.byteSize() != count * in || outputs.byteSize() != count * out) {
            throw new IllegalArgumentException("for " + count + " samples of " + model.sampleShape() + " expected " + count * in
                    + " input bytes and " + count * out + " output bytes, got " + samples.byteSize() + " and " + outputs.byteSize());
        }
        if (!samples.isAccessibleBy(ANOTHER_THREAD) || !outputs.isAccessibleBy(ANOTHER_THREAD)) {
            // A confined arena's memory can be read only by its owner; the workers run on threads of their own.
            float[] in32 = samples.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
            float[] out32 = new float[Math.toIntExact(count * outputSize())];
            predict(MemorySegment.ofArray(in32), count, MemorySegment.ofArray(out32));
            MemorySegment.copy(out32, 0, outputs, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, out32.length);
            return;
        }
        onWorker(w -> {
            for (int from = 0; from < count; from += maxBatch) {
                int n = Math.min(maxBatch, count - from);
                Plan plan = w.planFor(n);
                plan.input().segment().copyFrom(samples.asSlice(from * in, n * in));
                plan.forward(false);
                outputs.asSlice(from * out, n * out).copyFrom(plan.output().segment());
            }
            return null;
        });
    }

    /** {@link #predict(MemorySegment, int, MemorySegment)} for arrays. */
    public float[] predict(float[] samples, int count) {
        float[] result = new float[Math.toIntExact(count * outputSize())];
        predict(MemorySegment.ofArray(samples), count, MemorySegment.ofArray(result));
        return result;
    }

    /** Number of workers created so far: at most {@link #maxWorkers()}. */
    public int workers() {
        synchronized (all) {
            return all.size();
        }
    }

    /**
     * Frees every worker once the calls running now have returned (new calls are refused from
     * now on: {@link IllegalStateException}); later calls do nothing. The model stays open.
     */
    @Override
    public void close() {
        if (!lifetime.endWhenUnused()) {
            awaitUninterruptibly(freed); // another close is freeing the workers: return when it has
            return;
        }
        pool.shutdown(); // no call runs now (each held the lifetime until its result came back)
        boolean interrupted = false;
        while (!pool.isTerminated()) {
            try {
                pool.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        try {
            synchronized (all) {
                all.forEach(Worker::close);
                all.clear();
            }
        } finally {
            freed.countDown();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitUninterruptibly(java.util.concurrent.CountDownLatch latch) {
        boolean interrupted = false;
        while (latch.getCount() > 0) {
            try {
                latch.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

}
