package dev.deepnet.bench.peers;

import java.util.Arrays;

/**
 * The timing rules every peer follows; dnnl_peer.c and torch_peer.py implement the same ones, so
 * that a difference in the table is a difference in the work, not in the stopwatch.
 *
 * <ol>
 *   <li>Setup (primitive creation, model compilation) happens before and is timed by the caller.</li>
 *   <li>The first call is timed on its own ({@code first_us}): oneDNN and PyTorch create primitives
 *       lazily, so for nets it includes their creation.</li>
 *   <li>Warm-up: more calls until {@code warmup} seconds have passed since the first call began
 *       (none when the first call alone took that long).</li>
 *   <li>Each timed sample is {@code repeat} back-to-back calls, {@code repeat} chosen from the
 *       warm-up so that a sample lasts about {@code sample-us} microseconds (1 for any call longer
 *       than that): the clock's own cost stays out of microsecond calls.</li>
 *   <li>Samples are taken until {@code measure} seconds have passed and at least
 *       {@code min-samples} samples are in, or until three times {@code measure} has passed
 *       (calls of several seconds: then at least one sample), or {@code max-samples}.</li>
 * </ol>
 * Reported per call: the median, minimum and mean over samples, in microseconds.
 */
final class Measure {

    final double warmupSeconds;
    final double measureSeconds;
    final int minSamples;
    final int maxSamples;
    final double sampleMicros;

    Measure(double warmupSeconds, double measureSeconds, int minSamples, int maxSamples, double sampleMicros) {
        if (!(warmupSeconds >= 0) || !(measureSeconds > 0) || minSamples < 1 || maxSamples < minSamples || !(sampleMicros > 0)) {
            throw new IllegalArgumentException("bad timing settings: warmup " + warmupSeconds + " s, measure " + measureSeconds
                    + " s, min-samples " + minSamples + ", max-samples " + maxSamples + ", sample-us " + sampleMicros);
        }
        this.warmupSeconds = warmupSeconds;
        this.measureSeconds = measureSeconds;
        this.minSamples = minSamples;
        this.maxSamples = maxSamples;
        this.sampleMicros = sampleMicros;
    }

    static Measure from(PeerArgs args) {
        return new Measure(args.number("warmup", 0.5), args.number("measure", 1.5), args.integer("min-samples", 3),
                args.integer("max-samples", 100_000), args.number("sample-us", 200));
    }

    /** What one timed run gave; times in microseconds per call. */
    record Result(double firstMicros, int warmupCalls, int repeat, double[] samples) {

        double median() {
            double[] s = samples.clone();
            Arrays.sort(s);
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        double min() {
            return Arrays.stream(samples).min().orElse(Double.NaN);
        }

        double mean() {
            return Arrays.stream(samples).average().orElse(Double.NaN);
        }

        void addTo(Report report) {
            report.put("first_us", firstMicros).put("warmup", warmupCalls).put("repeat", repeat).put("samples", samples.length)
                    .put("median_us", median()).put("min_us", min()).put("mean_us", mean());
        }
    }

    /** First call, warm-up, then samples, by the rules above. */
    Result run(Runnable call) {
        long start = System.nanoTime();
        call.run();
        long now = System.nanoTime();
        double firstNs = now - start;
        int warmup = 1;
        long warmupNs = 0;
        int afterFirst = 0;
        while (now - start < warmupSeconds * 1e9) {
            long s = now;
            call.run();
            now = System.nanoTime();
            warmupNs += now - s;
            afterFirst++;
            warmup++;
        }
        double estimateNs = afterFirst > 0 ? (double) warmupNs / afterFirst : firstNs;
        int repeat = (int) Math.max(1, Math.min(1_000_000, Math.ceil(sampleMicros * 1e3 / Math.max(1, estimateNs))));
        double[] samples = new double[16];
        int n = 0;
        long measureStart = System.nanoTime();
        while (true) {
            long s = System.nanoTime();
            for (int i = 0; i < repeat; i++) {
                call.run();
            }
            long e = System.nanoTime();
            if (n == samples.length) {
                samples = Arrays.copyOf(samples, n * 2);
            }
            samples[n++] = (e - s) / 1e3 / repeat;
            double elapsed = (e - measureStart) / 1e9;
            if (n >= maxSamples || (n >= minSamples && elapsed >= measureSeconds) || elapsed >= 3 * measureSeconds) {
                break;
            }
        }
        return new Result(firstNs / 1e3, warmup, repeat, Arrays.copyOf(samples, n));
    }

    /**
     * First call, warm-up, then exactly {@code count} calls each timed alone (an epoch's worth of
     * minibatches: their sum is what counts).
     */
    Result runFixed(Runnable call, int count) {
        long start = System.nanoTime();
        call.run();
        long now = System.nanoTime();
        double firstNs = now - start;
        int warmup = 1;
        while (now - start < warmupSeconds * 1e9) {
            call.run();
            now = System.nanoTime();
            warmup++;
        }
        double[] samples = new double[count];
        for (int i = 0; i < count; i++) {
            long s = System.nanoTime();
            call.run();
            samples[i] = (System.nanoTime() - s) / 1e3;
        }
        return new Result(firstNs / 1e3, warmup, 1, samples);
    }
}
