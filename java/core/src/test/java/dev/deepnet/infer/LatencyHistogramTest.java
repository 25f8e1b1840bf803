package dev.deepnet.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

    @Test
    void bucketsAreContiguousAndEachValueFallsInItsOwn() {
        long previous = -1;
        for (int b = 0; b < LatencyHistogram.BUCKETS - 1; b++) {
            long upper = LatencyHistogram.upperBound(b);
            assertEquals(b, LatencyHistogram.bucket(previous + 1), "the first value of bucket " + b);
            assertEquals(b, LatencyHistogram.bucket(upper), "the last value of bucket " + b);
            assertTrue(upper - previous <= Math.max(1, (previous + 1) / 16), "bucket " + b + " is at most 1/16 of its values wide");
            previous = upper;
        }
        assertEquals(LatencyHistogram.BUCKETS - 1, LatencyHistogram.bucket(Long.MAX_VALUE));
    }

    @Test
    void quantilesAreWithinASixteenthAboveTheExactOnes() {
        SplittableRandom r = new SplittableRandom(4);
        long[] values = new long[10_000];
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 0; i < values.length; i++) {
            values[i] = (long) Math.exp(r.nextDouble(Math.log(1_000), Math.log(50_000_000))); // 1 us to 50 ms
            h.record(values[i]);
        }
        Arrays.sort(values);
        LatencyHistogram.Snapshot s = h.snapshot();
        assertEquals(values.length, s.count());
        for (double q : new double[] {0.5, 0.9, 0.99, 1.0}) {
            long exact = values[(int) Math.ceil(q * values.length) - 1];
            long got = s.quantile(q).toNanos();
            assertTrue(got >= exact && got <= exact + exact / 16 + 1, "q " + q + ": exact " + exact + ", got " + got);
        }
        assertEquals(values[values.length - 1], s.max().toNanos());
        assertEquals(Arrays.stream(values).sum(), s.total().toNanos());
        assertEquals(Arrays.stream(values).sum() / values.length, s.mean().toNanos());
        long atMost = Arrays.stream(values).filter(v -> v <= 1_000_000).count();
        long counted = s.countAtMost(Duration.ofMillis(1));
        assertTrue(counted <= atMost && counted >= atMost * 0.9, "within a bucket of 1 ms: " + counted + " vs " + atMost);
    }

    @Test
    void emptyAndOddValues() {
        LatencyHistogram h = new LatencyHistogram();
        assertEquals(Duration.ZERO, h.snapshot().p99());
        assertEquals(Duration.ZERO, h.snapshot().mean());
        h.record(-5);
        h.record(7);
        assertEquals(7, h.snapshot().p99().toNanos(), "exact below 32 ns");
        assertEquals(0, h.snapshot().quantile(0.5).toNanos(), "negative durations count as 0");
        h.record(Long.MAX_VALUE / 4);
        assertEquals(Long.MAX_VALUE / 4, h.snapshot().max().toNanos());
        assertEquals(Long.MAX_VALUE / 4, h.snapshot().quantile(1).toNanos(), "the last bucket reports the maximum");
        assertThrows(IllegalArgumentException.class, () -> h.snapshot().quantile(0));
        assertThrows(IllegalArgumentException.class, () -> h.snapshot().quantile(1.5));
    }
}
