package dev.deepnet.lab.serve;

import dev.deepnet.infer.Classification;
import dev.deepnet.infer.Predictor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Classifies the samples of concurrent requests together: each of the predictor's workers has a
 * dispatcher that takes the oldest waiting sample and every other one waiting then (up to the
 * predictor's {@link Predictor#maxBatch()}), and classifies them in one call. A request never
 * waits for others to arrive — a lone request is a batch of one — but under load the per-call
 * cost (a hand-off between threads, a pass through the plan) is shared by the batch, which is how
 * an HTTP server keeps up with callers in the same process (dynamic batching, as model servers do).
 * With {@code maxBatch} 1 every sample is classified alone.
 */
final class RequestBatcher implements AutoCloseable {

    private record Pending(float[] sample, CompletableFuture<Classification> result) {
    }

    private static final Pending STOP = new Pending(null, null);

    private final Predictor predictor;
    private final int maxBatch;
    private final LinkedBlockingQueue<Pending> waiting = new LinkedBlockingQueue<>();
    private final Thread[] dispatchers;
    private volatile boolean closed;

    RequestBatcher(Predictor predictor) {
        this.predictor = predictor;
        this.maxBatch = predictor.maxBatch();
        this.dispatchers = new Thread[Math.max(1, predictor.threads() / predictor.threadsPerWorker())];
        for (int i = 0; i < dispatchers.length; i++) {
            dispatchers[i] = Thread.ofPlatform().daemon().name("deepnet-serve-batcher-" + i).start(this::dispatch);
        }
    }

    /** The classification of one sample ({@link Predictor#inputSize()} floats), perhaps made in a batch with others. */
    Classification classify(float[] sample) {
        if (maxBatch == 1) {
            return predictor.classify(sample);
        }
        if (closed) {
            throw new IllegalStateException("the server is closing");
        }
        Pending p = new Pending(sample, new CompletableFuture<>());
        waiting.add(p);
        try {
            return p.result().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a classification", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private void dispatch() {
        List<Pending> batch = new ArrayList<>(maxBatch);
        int size = Math.toIntExact(predictor.inputSize());
        while (true) {
            Pending first;
            try {
                first = waiting.take();
            } catch (InterruptedException e) {
                return;
            }
            if (first == STOP) {
                return;
            }
            batch.add(first);
            waiting.drainTo(batch, maxBatch - 1);
            int stops = 0;
            for (int i = batch.size() - 1; i >= 0; i--) {
                if (batch.get(i) == STOP) {
                    batch.remove(i);
                    stops++;
                }
            }
            try {
                float[] samples = new float[batch.size() * size];
                for (int i = 0; i < batch.size(); i++) {
                    System.arraycopy(batch.get(i).sample(), 0, samples, i * size, size);
                }
                List<Classification> results = predictor.classify(samples, batch.size());
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).result().complete(results.get(i));
                }
            } catch (RuntimeException | Error e) {
                for (Pending p : batch) {
                    p.result().completeExceptionally(e);
                }
            }
            batch.clear();
            if (stops > 0) {
                for (int i = 1; i < stops; i++) {
                    waiting.add(STOP); // the other dispatchers' stops, taken by this one
                }
                return;
            }
        }
    }

    /** Classifies what is waiting, then stops the dispatchers (at most a few seconds). */
    @Override
    public void close() {
        closed = true;
        for (int i = 0; i < dispatchers.length; i++) {
            waiting.add(STOP);
        }
        for (Thread t : dispatchers) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
