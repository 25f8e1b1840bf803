package dev.deepnet.ops;

import static dev.deepnet.ops.OpCheck.assertClose;
import static dev.deepnet.ops.OpCheck.assertGradient;
import static dev.deepnet.ops.OpCheck.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Batch normalisation, in training and at inference, forward and backward, on every backend. */
class BatchNormOpsTest extends BackendTestCase {

    /** name, x (N, C, H, W), whether to check gradients by finite differences. */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("odd image, 3 channels", Shape.of(2, 3, 5, 7), true),
                Arguments.of("1x1 images, 5 channels", Shape.of(3, 5, 1, 1), true),
                Arguments.of("one channel, batch 1", Shape.of(1, 1, 3, 4), true),
                Arguments.of("16 channels (blocked layouts)", Shape.of(2, 16, 4, 4), false),
                Arguments.of("many channels, many values", Shape.of(4, 37, 6, 5), false));
    }

    /** gamma and beta away from zero, variance positive: what a trained layer holds. */
    private static Tensor positive(Shape s, long seed) {
        Tensor t = random(s, seed);
        for (long i = 0; i < t.size(); i++) {
            t.setFlat(i, 0.5f + Math.abs(t.getFlat(i)));
        }
        return t;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void trainingForwardStatisticsAndBackwardAgreeAndMatchFiniteDifferences(String name, Shape xs, boolean gradients) {
        BatchNormSpec spec = new BatchNormSpec(1e-3f, 0.25f);
        Shape cs = Shape.of(xs.dim(1));
        long count = xs.dim(0) * xs.dim(2) * xs.dim(3);
        long seed = xs.hashCode();
        try (Tensor x = random(xs, seed); Tensor gamma = positive(cs, seed + 1); Tensor beta = random(cs, seed + 2);
             Tensor g = random(xs, seed + 3); Tensor yRef = Tensor.allocate(xs); Tensor meanRef = Tensor.allocate(cs);
             Tensor varRef = Tensor.allocate(cs); Tensor rmRef = random(cs, seed + 4); Tensor rvRef = positive(cs, seed + 5);
             Tensor dxRef = Tensor.allocate(xs); Tensor dgRef = Tensor.allocate(cs); Tensor dbRef = Tensor.allocate(cs)) {
            float[] runningMean = rmRef.toArray();
            float[] runningVariance = rvRef.toArray();
            reference.batchNormTrainingForward(spec, x, gamma, beta, yRef, meanRef, varRef, rmRef, rvRef);
            reference.batchNormBackward(spec, true, x, g, gamma, meanRef, varRef, dxRef, dgRef, dbRef);
            // the running estimates by hand: momentum 0.25, the variance unbiased
            for (int c = 0; c < cs.dim(0); c++) {
                assertEquals(0.75 * runningMean[c] + 0.25 * meanRef.getFlat(c), rmRef.getFlat(c), 1e-6);
                assertEquals(0.75 * runningVariance[c] + 0.25 * varRef.getFlat(c) * count / (count - 1), rvRef.getFlat(c), 1e-5);
            }
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(xs).fill(7f); Tensor mean = Tensor.allocate(cs).fill(7f);
                     Tensor var = Tensor.allocate(cs).fill(7f); Tensor rm = Tensor.of(cs, runningMean);
                     Tensor rv = Tensor.of(cs, runningVariance); Tensor dx = Tensor.allocate(xs).fill(7f);
                     Tensor dg = Tensor.allocate(cs).fill(7f); Tensor db = Tensor.allocate(cs).fill(7f);
                     Tensor dxOnly = Tensor.allocate(xs).fill(7f)) {
                    String what = ops.name() + " batch norm " + name;
                    ops.batchNormTrainingForward(spec, x, gamma, beta, y, mean, var, rm, rv);
                    ops.batchNormBackward(spec, true, x, g, gamma, mean, var, dx, dg, db);
                    ops.batchNormBackward(spec, true, x, g, gamma, mean, var, dxOnly, null, null);
                    assertClose(what + " forward", yRef, y, count);
                    assertClose(what + " mean", meanRef, mean, count);
                    assertClose(what + " variance", varRef, var, count);
                    assertClose(what + " running mean", rmRef, rm, count);
                    assertClose(what + " running variance", rvRef, rv, count);
                    assertClose(what + " backward data", dxRef, dx, count);
                    assertClose(what + " backward data alone", dxRef, dxOnly, count);
                    assertClose(what + " dgamma", dgRef, dg, count);
                    assertClose(what + " dbeta", dbRef, db, count);
                    if (gradients) {
                        Runnable forward = () -> ops.batchNormTrainingForward(spec, x, gamma, beta, y, mean, var, null, null);
                        assertGradient(what + " dx", forward, y, g, x, dx, 1e-2, 12, seed);
                        assertGradient(what + " dgamma", forward, y, g, gamma, dg, 1e-2, 6, seed);
                        assertGradient(what + " dbeta", forward, y, g, beta, db, 1e-2, 6, seed);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void inferenceForwardAndBackwardWithGivenStatisticsAgreeAndMatchFiniteDifferences(String name, Shape xs, boolean gradients) {
        BatchNormSpec spec = BatchNormSpec.defaults();
        Shape cs = Shape.of(xs.dim(1));
        long seed = xs.hashCode() + 17;
        try (Tensor x = random(xs, seed); Tensor gamma = positive(cs, seed + 1); Tensor beta = random(cs, seed + 2);
             Tensor mean = random(cs, seed + 3); Tensor var = positive(cs, seed + 4); Tensor g = random(xs, seed + 5);
             Tensor yRef = Tensor.allocate(xs); Tensor dxRef = Tensor.allocate(xs); Tensor dgRef = Tensor.allocate(cs);
             Tensor dbRef = Tensor.allocate(cs)) {
            reference.batchNormInferenceForward(spec, x, gamma, beta, mean, var, yRef);
            reference.batchNormBackward(spec, false, x, g, gamma, mean, var, dxRef, dgRef, dbRef);
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(xs).fill(7f); Tensor dx = Tensor.allocate(xs).fill(7f);
                     Tensor dg = Tensor.allocate(cs).fill(7f); Tensor db = Tensor.allocate(cs).fill(7f);
                     Tensor dxOnly = Tensor.allocate(xs).fill(7f)) {
                    String what = ops.name() + " batch norm at inference " + name;
                    ops.batchNormInferenceForward(spec, x, gamma, beta, mean, var, y);
                    ops.batchNormBackward(spec, false, x, g, gamma, mean, var, dx, dg, db);
                    ops.batchNormBackward(spec, false, x, g, gamma, mean, var, dxOnly, null, null);
                    long count = xs.dim(0) * xs.dim(2) * xs.dim(3);
                    assertClose(what + " forward", yRef, y, 1);
                    assertClose(what + " backward data", dxRef, dx, 1);
                    assertClose(what + " backward data alone", dxRef, dxOnly, 1);
                    assertClose(what + " dgamma", dgRef, dg, count);
                    assertClose(what + " dbeta", dbRef, db, count);
                    if (gradients) {
                        Runnable forward = () -> ops.batchNormInferenceForward(spec, x, gamma, beta, mean, var, y);
                        assertGradient(what + " dx", forward, y, g, x, dx, 1e-2, 12, seed);
                        assertGradient(what + " dgamma", forward, y, g, gamma, dg, 1e-2, 6, seed);
                        assertGradient(what + " dbeta", forward, y, g, beta, db, 1e-2, 6, seed);
                    }
                }
            }
        }
    }

    @Test
    void badArgumentsAreRefusedNamingTheOp() {
        BatchNormSpec spec = BatchNormSpec.defaults();
        try (Tensor x = Tensor.allocate(Shape.of(2, 3, 4, 4)); Tensor y = Tensor.allocate(Shape.of(2, 3, 4, 4));
             Tensor c = Tensor.allocate(Shape.of(3)); Tensor c2 = Tensor.allocate(Shape.of(3)); Tensor c3 = Tensor.allocate(Shape.of(3));
             Tensor c4 = Tensor.allocate(Shape.of(3)); Tensor wrong = Tensor.allocate(Shape.of(4));
             Tensor single = Tensor.allocate(Shape.of(1, 3, 1, 1)); Tensor singleY = Tensor.allocate(Shape.of(1, 3, 1, 1))) {
            for (Ops ops : backends()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> ops.batchNormInferenceForward(spec, x, c, c2, wrong, c4, y));
                assertTrue(e.getMessage().startsWith("batchNormInferenceForward: mean must be (3) (C, one per channel) but is (4)"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class,
                        () -> ops.batchNormTrainingForward(spec, single, c, c2, singleY, c3, c4, null, null));
                assertTrue(e.getMessage().contains("one value per channel"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> ops.batchNormBackward(spec, true, x, y, c, c2, c3, y, null, c4));
                assertTrue(e.getMessage().contains("dgamma and dbeta are both given or both null"), e.getMessage());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new BatchNormSpec(0f, 0.1f));
        assertThrows(IllegalArgumentException.class, () -> new BatchNormSpec(1e-5f, 1.5f));
    }
}
