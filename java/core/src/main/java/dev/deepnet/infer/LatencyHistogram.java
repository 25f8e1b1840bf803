package dev.deepnet.infer;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Durations counted in a fixed set of buckets, so recording costs a few atomic additions and the
 * memory never grows, however many are recorded (a list of every latency would). Buckets are
 * log-linear, like HdrHistogram's: exact below 32 ns, then 16 per power of two, so a reported
 * quantile is at most 1/16 (6.25 %) above the true one; durations past 2^40 ns (18 minutes) share
 * the last bucket. Thread-safe; {@link #snapshot()} reads it without stopping writers (a snapshot
 * taken during recording may miss the latest few).
 */
public final class LatencyHistogram {

    private static final int SUB_BITS = 4; // 16 buckets per power of two
    private static final int SUB = 1 << SUB_BITS;
    private static final int MAX_EXPONENT = 40;
    /** Buckets: values below 2 * SUB one each, then SUB per power of two up to 2^MAX_EXPONENT. */
    static final int BUCKETS = (MAX_EXPONENT - SUB_BITS + 1) * SUB;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong sum = new AtomicLong();
    private final AtomicLong max = new AtomicLong();

    /** Counts one duration of {@code nanos} (negative ones count as 0). */
    public void record(long nanos) {
        long v = Math.max(0, nanos);
        counts.incrementAndGet(bucket(v));
        total.incrementAndGet();
        sum.addAndGet(v);
        max.accumulateAndGet(v, Math::max);
    }

    static int bucket(long v) {
        if (v < 2 * SUB) {
            return (int) v;
        }
        int e = 63 - Long.numberOfLeadingZeros(v); // 2^e <= v < 2^(e+1), e >= SUB_BITS + 1
        if (e >= MAX_EXPONENT) {
            return BUCKETS - 1;
        }
        int sub = (int) (v >>> (e - SUB_BITS)) & (SUB - 1);
        return (e - SUB_BITS + 1) * SUB + sub;
    }

    /** The largest value that falls in bucket {@code b}. */
    static long upperBound(int b) {
        if (b < 2 * SUB) {
            return b;
        }
        if (b == BUCKETS - 1) {
            return Long.MAX_VALUE;
        }
        int e = b / SUB + SUB_BITS - 1;
        long sub = b % SUB;
        return ((SUB + sub + 1) << (e - SUB_BITS)) - 1;
    }

    /** What has been recorded so far. */
    public Snapshot snapshot() {
        long[] c = new long[BUCKETS];
        long n = 0;
        for (int b = 0; b < BUCKETS; b++) {
            c[b] = counts.get(b);
            n += c[b];
        }
        return new Snapshot(c, n, sum.get(), max.get());
    }

    /**
     * Recorded durations at one moment: their count, mean, maximum and quantiles. Immutable.
     * Quantiles are the upper bound of the bucket they fall in, never more than the maximum.
     */
    public static final class Snapshot {
        private final long[] counts;
        private final long count;
        private final long sumNanos;
        private final long maxNanos;

        Snapshot(long[] counts, long count, long sumNanos, long maxNanos) {
            this.counts = counts;
            this.count = count;
            this.sumNanos = sumNanos;
            this.maxNanos = maxNanos;
        }

        /** How many durations were recorded. */
        public long count() {
            return count;
        }

        /** Their sum (what Prometheus calls {@code _sum}). */
        public Duration total() {
            return Duration.ofNanos(sumNanos);
        }

        public Duration mean() {
            return count == 0 ? Duration.ZERO : Duration.ofNanos(sumNanos / count);
        }

        public Duration max() {
            return Duration.ofNanos(maxNanos);
        }

        /**
         * The duration that a fraction {@code q} of those recorded do not exceed ({@code 0 < q <= 1}), to
         * within 6.25 % above; zero when none were recorded.
         */
        public Duration quantile(double q) {
            if (!(q > 0 && q <= 1)) {
                throw new IllegalArgumentException("a quantile is in (0, 1], got " + q);
            }
            if (count == 0) {
                return Duration.ZERO;
            }
            long rank = (long) Math.ceil(q * count); // the rank-th smallest, counting from 1
            long seen = 0;
            for (int b = 0; b < counts.length; b++) {
                seen += counts[b];
                if (seen >= rank) {
                    return Duration.ofNanos(Math.min(upperBound(b), maxNanos));
                }
            }
            return Duration.ofNanos(maxNanos);
        }

        public Duration p50() {
            return quantile(0.50);
        }

        public Duration p90() {
            return quantile(0.90);
        }

        public Duration p99() {
            return quantile(0.99);
        }

        /** How many recorded durations were at most {@code bound} (to the bucket: within 6.25 %), for cumulative buckets. */
        public long countAtMost(Duration bound) {
            long nanos = bound.toNanos();
            long n = 0;
            for (int b = 0; b < counts.length && upperBound(b) <= nanos; b++) {
                n += counts[b];
            }
            return n;
        }

        @Override
        public String toString() {
            return count + " recorded: mean " + micros(mean()) + ", p50 " + micros(p50()) + ", p90 " + micros(p90()) + ", p99 "
                    + micros(p99()) + ", max " + micros(max());
        }

        private static String micros(Duration d) {
            return String.format(java.util.Locale.ROOT, "%.1f us", d.toNanos() / 1e3);
        }
    }
}
