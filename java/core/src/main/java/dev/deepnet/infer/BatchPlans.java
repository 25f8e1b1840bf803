package dev.deepnet.infer;

import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Ops;
import java.lang.foreign.MemorySegment;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One model's plans on one {@link Ops}, one per batch size, compiled on first use and at most
 * {@code maxPlans} kept: past that the least recently used is closed (and compiled again if
 * asked for again), so feeding ever new batch sizes holds bounded memory.
 *
 * <p>Two kinds. {@link #forInference} plans run batches of up to {@code maxBatch}, each padded to
 * the next power of two (or to {@code maxBatch}): callers ask for batches of every size, and a plan
 * per size would compile all the time, while powers of two waste less than half a batch and need
 * at most {@code log2(maxBatch) + 2} plans. The rows past a batch keep whatever they held; in
 * inference every sample is computed alone, so they change nothing. {@link #forInputGradient}
 * plans ({@link Model#compileForInputGradient}) have exactly the batch size asked for, since their
 * callers fill the output gradient row by row.
 *
 * <p>Single-threaded, like its Ops. The model is only read; closing this closes the plans, not the
 * model or the ops.
 */
public final class BatchPlans implements AutoCloseable {

    private final Model model;
    private final Ops ops;
    private final int maxBatch; // 0: exact sizes, any batch
    private final int maxPlans;
    private final boolean inputGradient;
    private final long sampleBytes;
    private final long outputBytes; // per sample
    private final LinkedHashMap<Integer, Plan> plans = new LinkedHashMap<>(16, 0.75f, true); // access order: LRU first
    private long compiled;
    private boolean closed;

    private BatchPlans(Model model, Ops ops, int maxBatch, int maxPlans, boolean inputGradient) {
        if (maxPlans < 1) {
            throw new IllegalArgumentException("maxPlans must be >= 1, got " + maxPlans);
        }
        this.model = model;
        this.ops = ops;
        this.maxBatch = maxBatch;
        this.maxPlans = maxPlans;
        this.inputGradient = inputGradient;
        this.sampleBytes = model.sampleShape().size() * Float.BYTES;
        this.outputBytes = model.shapes(1)[model.output().index()].size() * Float.BYTES;
    }

    /** Inference plans for batches of 1 to {@code maxBatch}, padded to powers of two; at most {@code maxPlans} kept. */
    public static BatchPlans forInference(Model model, Ops ops, int maxBatch, int maxPlans) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        return new BatchPlans(model, ops, maxBatch, maxPlans, false);
    }

    /** Input-gradient plans of exactly the batch sizes asked for; at most {@code maxPlans} kept. */
    public static BatchPlans forInputGradient(Model model, Ops ops, int maxPlans) {
        return new BatchPlans(model, ops, 0, maxPlans, true);
    }

    public Model model() {
        return model;
    }

    /** The largest batch one plan runs (inference plans; input-gradient plans take any size). */
    public int maxBatch() {
        return maxBatch;
    }

    /** The batch size of the plan that runs {@code count} samples: {@code count} itself, or padded. */
    public int batchSizeFor(int count) {
        if (count < 1 || (maxBatch > 0 && count > maxBatch)) {
            throw new IllegalArgumentException("a plan runs 1 to " + (maxBatch > 0 ? maxBatch : Integer.MAX_VALUE)
                    + " samples, asked for " + count);
        }
        if (maxBatch == 0) {
            return count;
        }
        int p = Integer.highestOneBit(count);
        return p == count ? count : (int) Math.min(maxBatch, (long) p << 1);
    }

    /** The plan for {@code count} samples ({@link #batchSizeFor}), compiled now if it is not kept. */
    public Plan plan(int count) {
        if (closed) {
            throw new IllegalStateException("these BatchPlans are closed");
        }
        int size = batchSizeFor(count);
        Plan plan = plans.get(size);
        if (plan != null) {
            return plan;
        }
        if (plans.size() >= maxPlans) {
            Iterator<Map.Entry<Integer, Plan>> eldest = plans.entrySet().iterator();
            Plan old = eldest.next().getValue();
            eldest.remove(); // never left holding a closed plan, whether or not the close or the new compile fails
            old.close();
        }
        plan = inputGradient ? model.compileForInputGradient(ops, size) : model.compileForInference(ops, size);
        compiled++;
        plans.put(size, plan);
        return plan;
    }

    /**
     * Runs {@code count} samples laid out one after another in {@code samples} through inference
     * plans, in chunks of at most {@link #maxBatch()}, and writes their outputs one after another
     * into {@code outputs}. The segments' sizes are the caller's to check; they must be readable
     * and writable by this thread.
     */
    public void run(MemorySegment samples, int count, MemorySegment outputs) {
        if (inputGradient) {
            throw new IllegalStateException("run is for inference plans; an input-gradient plan is driven by its caller");
        }
        long in = sampleBytes;
        long out = outputBytes;
        for (int from = 0; from < count; from += maxBatch) {
            int n = Math.min(maxBatch, count - from);
            Plan plan = plan(n);
            plan.input().segment().asSlice(0, n * in).copyFrom(samples.asSlice(from * in, n * in));
            plan.forward(false);
            outputs.asSlice(from * out, n * out).copyFrom(plan.output().segment().asSlice(0, n * out));
        }
    }

    /** How many plans are kept now: at most {@code maxPlans}. */
    public int size() {
        return plans.size();
    }

    /** How many plans were compiled so far, counting those compiled again after being closed. */
    public long compiled() {
        return compiled;
    }

    @Override
    public void close() {
        closed = true;
        RuntimeException failure = null;
        for (Plan p : plans.values()) {
            try {
                p.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        plans.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
