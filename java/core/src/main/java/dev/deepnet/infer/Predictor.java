package dev.deepnet.infer;

import dev.deepnet.nativelib.Lifetime;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;


import java.lang.foreign.MemorySegment;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * Inference for services: call it from as many threads as you like. The model's weights are
 * shared and only read; each concurrent call borrows a worker (its own {@link Ops} and inference
 * plans, for one sample and for up to {@code maxBatch}) from a pool and returns it, so there is no
 * one-predictor-per-thread rule and no per-call native allocation once the pool is warm. Workers
 * are created when more calls run at once than before; {@link #warmup} creates one ahead of the
 * first call (oneDNN builds its kernels then, 30–80 µs each, not on a user's request).
 *
 * <p>Do not train the model while predicting: the weights must not change under readers.
 */
public final class Predictor implements AutoCloseable {

    private final Model model;
    private final Supplier<Ops> opsFactory;
    private final int maxBatch;
    private final ConcurrentLinkedQueue<Worker> idle = new ConcurrentLinkedQueue<>();
    private final List<Worker> all = new ArrayList<>(); // guarded by itself
    /** Held by every call: {@link #close} waits for the calls running and refuses new ones. */
    private final Lifetime lifetime = new Lifetime();

    /** One thread's means to run the model. */
    private final class Worker implements AutoCloseable {
        final Ops ops = opsFactory.get();
        final Plan single = model.compileForInference(ops, 1);
        Plan batch; // (maxBatch, ...), built on first batch call
        Plan tail; // the last batch size that was not maxBatch, rebuilt when it changes

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
                if (tail != null) {
                    tail.close();
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

    /** A predictor on the selected backend ({@link Backend#selected()}), batches of up to {@code maxBatch}. */
    public Predictor(Model model, int maxBatch) {
        this(model, Backend.selected()::newOps, maxBatch);
    }

    public Predictor(Model model, Supplier<Ops> opsFactory, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        this.model = model;
        this.opsFactory = opsFactory;
        this.maxBatch = maxBatch;
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
        Worker w = borrow();
        try {
            w.single.input().fill(0f);
            w.single.forward(false);
        } finally {
            release(w);
        }
    }

    /** The output for one sample ({@link #inputSize()} floats). */
    public float[] predict(float[] sample) {
        if (sample.length != inputSize()) {
            throw new IllegalArgumentException("a sample of " + model.sampleShape() + " has " + inputSize() + " floats, got "
                    + sample.length);
        }
        Worker w = borrow();
        try {
            w.single.input().copyFrom(sample);
            w.single.forward(false);
            return w.single.output().toArray();
        } finally {
            release(w);
        }
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
        Worker w = borrow();
        try {
            for (int from = 0; from < count; from += maxBatch) {
                int n = Math.min(maxBatch, count - from);
                Plan plan = w.planFor(n);
                plan.input().segment().copyFrom(samples.asSlice(from * in, n * in));
                plan.forward(false);
                outputs.asSlice(from * out, n * out).copyFrom(plan.output().segment());
            }
        } finally {
            release(w);
        }
    }

    /** {@link #predict(MemorySegment, int, MemorySegment)} for arrays. */
    public float[] predict(float[] samples, int count) {
        float[] result = new float[Math.toIntExact(count * outputSize())];
        predict(MemorySegment.ofArray(samples), count, MemorySegment.ofArray(result));
        return result;
    }

    /** A worker for one call; the predictor stays held until {@link #release}. */
    private Worker borrow() {
        lifetime.acquire("this Predictor");
        try {
            Worker w = idle.poll();
            if (w == null) {
                w = new Worker();
                synchronized (all) {
                    all.add(w);
                }
            }
            return w;
        } catch (RuntimeException | Error e) {
            lifetime.release();
            throw e;
        }
    }

    private void release(Worker w) {
        idle.add(w);
        lifetime.release();
    }

    /** Number of workers created so far (at most the largest number of concurrent calls). */
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
            return;
        }
        synchronized (all) {
            all.forEach(Worker::close);
            all.clear();
        }
        idle.clear();
    }

}
