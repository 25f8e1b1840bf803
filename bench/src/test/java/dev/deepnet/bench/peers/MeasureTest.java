package dev.deepnet.bench.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MeasureTest {

    private static void sleepMicros(long micros) {
        long end = System.nanoTime() + micros * 1000;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void shortCallsAreRepeatedPerSampleAndTakeAtLeastTheMinimumSamples() {
        Measure m = new Measure(0.02, 0.05, 3, 100_000, 200);
        int[] calls = {0};
        Measure.Result r = m.run(() -> calls[0]++);
        assertTrue(r.repeat() > 1, "a call far shorter than 200 us is repeated within a sample: " + r.repeat());
        assertTrue(r.samples().length >= 3);
        assertEquals(1 + (r.warmupCalls() - 1) + (long) r.repeat() * r.samples().length, calls[0]);
    }

    @Test
    void aCallLongerThanThreeMeasurePeriodsGivesOneSample() {
        Measure m = new Measure(0, 0.001, 3, 100, 200);
        Measure.Result r = m.run(() -> sleepMicros(4000));
        assertEquals(1, r.warmupCalls(), "the first call alone outlasts the warm-up");
        assertEquals(1, r.repeat());
        assertEquals(1, r.samples().length);
        assertTrue(r.median() >= 4000);
    }

    @Test
    void fixedRunsTimeExactlyTheGivenCalls() {
        Measure m = new Measure(0, 1, 3, 100, 200);
        Measure.Result r = m.runFixed(() -> sleepMicros(100), 7);
        assertEquals(7, r.samples().length);
        assertTrue(r.min() >= 100);
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Measure(0, 0, 3, 100, 200));
        assertThrows(IllegalArgumentException.class, () -> new Measure(0, 1, 0, 100, 200));
    }
}
