package dev.deepnet.lab.experiments;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs one experiment's seeds side by side, one per core. Each seed's run is independent and
 * deterministic (its own ops, model and random stream), so the results are the same as in
 * sequence, and come back in seed order.
 */
final class Seeds {
    private Seeds() {}

    /** A seed's run; may throw what the experiment throws. */
    interface Run<T> {
        T run(long seed) throws Exception;
    }

    /** Runs seeds 1 ... {@code count}. */
    static <T> List<T> inParallel(int count, Run<T> run) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(count, Runtime.getRuntime().availableProcessors())));
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (long seed = 1; seed <= count; seed++) {
                long s = seed;
                futures.add(pool.submit(() -> run.run(s)));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running seeds", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("a seed's run failed: " + cause, cause);
        } finally {
            pool.shutdownNow();
        }
    }
}
