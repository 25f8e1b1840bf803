package dev.deepnet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LossAndMetricsTest {

    /** Each loss's gradient against central finite differences of its value. */
    @Test
    void lossGradientsMatchFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(1);
        for (Loss loss : List.of(new MeanSquaredError(), new BinaryCrossEntropy(), new SoftmaxCrossEntropy())) {
            try (Tensor y = Tensor.allocate(Shape.of(3, 4)); Tensor t = Tensor.allocate(Shape.of(3, 4));
                 Tensor g = Tensor.allocate(Shape.of(3, 4))) {
                for (int i = 0; i < 12; i++) {
                    y.setFlat(i, (float) r.nextDouble(0.1, 0.9)); // valid probabilities for BCE, fine scores for the others
                }
                for (int row = 0; row < 3; row++) {
                    t.setFlat(row * 4 + r.nextInt(4), 1f);
                }
                loss.evaluate(y, t, g);
                for (int i = 0; i < 12; i++) {
                    float v = y.getFlat(i);
                    double h = 1e-3;
                    y.setFlat(i, (float) (v + h));
                    double plus = loss.value(y, t);
                    y.setFlat(i, (float) (v - h));
                    double minus = loss.value(y, t);
                    y.setFlat(i, v);
                    double fd = (plus - minus) / (2 * h);
                    assertEquals(fd, g.getFlat(i), 1e-3 + 1e-3 * Math.abs(fd), loss.getClass().getSimpleName() + " at " + i);
                }
            }
        }
    }

    @Test
    void softmaxCrossEntropyIsStableForHugeScores() {
        try (Tensor y = Tensor.of(Shape.of(1, 3), 1000f, 0f, -1000f); Tensor t = Tensor.of(Shape.of(1, 3), 0f, 1f, 0f);
             Tensor g = Tensor.allocate(Shape.of(1, 3))) {
            double l = new SoftmaxCrossEntropy().evaluate(y, t, g);
            assertEquals(1000.0, l, 1e-3);
            assertEquals(1.0, g.getFlat(0), 1e-6);
            assertEquals(-1.0, g.getFlat(1), 1e-6);
        }
    }

    @Test
    void maximumLikelihoodIsMinimumBinaryCrossEntropy() {
        // The likelihood of labels (1, 0) under outputs (0.8, 0.3) is 0.8 * 0.7; BCE is minus its log, averaged.
        try (Tensor z = Tensor.of(Shape.of(2, 1), 0.8f, 0.3f); Tensor t = Tensor.of(Shape.of(2, 1), 1f, 0f)) {
            assertEquals(-Math.log(0.8 * 0.7) / 2, new BinaryCrossEntropy().value(z, t), 1e-6);
        }
    }

    @Test
    void accuracyAndTopKError() {
        try (Tensor s = Tensor.of(Shape.of(3, 4),
                0.1f, 0.7f, 0.1f, 0.1f, // label 1: top-1
                0.4f, 0.3f, 0.2f, 0.1f, // label 2: third
                0.25f, 0.25f, 0.25f, 0.25f)) { // label 3: tied, counts against
            int[] labels = {1, 2, 3};
            assertEquals(1.0 / 3, Metrics.accuracy(s, labels), 1e-12);
            assertEquals(2.0 / 3, Metrics.topKError(s, labels, 1), 1e-12);
            assertEquals(1.0 / 3, Metrics.topKError(s, labels, 3), 1e-12);
            assertEquals(0.0, Metrics.topKError(s, labels, 4), 1e-12);
            assertTrue(java.util.Arrays.equals(new int[] {1, 0, 0}, Metrics.argmax(s)));
        }
    }
}
