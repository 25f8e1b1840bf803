package dev.deepnet.ops;

import static dev.deepnet.ops.OpCheck.assertClose;
import static dev.deepnet.ops.OpCheck.assertGradient;
import static dev.deepnet.ops.OpCheck.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Element-wise activations, softmax and log-softmax, and LRN, on both backends. */
class ActivationSoftmaxLrnOpsTest extends BackendTestCase {

    static Stream<Arguments> activations() {
        return Stream.of(Activation.values()).flatMap(f -> Stream.of(Shape.of(1), Shape.of(7), Shape.of(3, 11), Shape.of(2, 3, 5, 7))
                .map(s -> Arguments.of(f, s)));
    }

    /** Inputs at least 0.05 away from 0, so a finite-difference step never crosses relu's kink. */
    static Tensor awayFromZero(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(s);
        for (long i = 0; i < s.size(); i++) {
            double v = 0.05 + r.nextDouble() * 2.5;
            t.setFlat(i, (float) (r.nextBoolean() ? v : -v));
        }
        return t;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("activations")
    void activationsAgreeAndMatchFiniteDifferences(Activation f, Shape s) {
        long seed = f.ordinal() * 100L + s.hashCode();
        try (Tensor x = awayFromZero(s, seed); Tensor g = random(s, seed + 1);
             Tensor yRef = Tensor.allocate(s); Tensor dxRef = Tensor.allocate(s)) {
            reference.activationForward(f, x, yRef);
            reference.activationBackward(f, x, yRef, g, dxRef);
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(s); Tensor dx = Tensor.allocate(s).fill(7f)) {
                    String what = ops.name() + " " + f + " on " + s;
                    ops.activationForward(f, x, y);
                    ops.activationBackward(f, x, y, g, dx);
                    assertClose(what + " forward", yRef, y, 1);
                    assertClose(what + " backward", dxRef, dx, 1);
                    assertGradient(what, () -> ops.activationForward(f, x, y), y, g, x, dx, 1e-2, 12, seed);
                }
            }
        }
    }

    static Stream<Arguments> clips() {
        return Stream.of(new float[] {0f, 6f}, new float[] {-0.5f, 1.5f}, new float[] {1f, 1f}).flatMap(b -> Stream.of(Shape.of(5),
                Shape.of(3, 11), Shape.of(2, 16, 5, 7)).map(s -> Arguments.of(b[0], b[1], s)));
    }

    @ParameterizedTest(name = "clip to [{0}, {1}] on {2}")
    @MethodSource("clips")
    void clipsAgreeAndMatchFiniteDifferences(float min, float max, Shape s) {
        long seed = s.hashCode() + (long) (min * 10);
        try (Tensor x = random(s, seed); Tensor g = random(s, seed + 1); Tensor yRef = Tensor.allocate(s);
             Tensor dxRef = Tensor.allocate(s)) {
            for (long i = 0; i < s.size(); i++) { // from -3 to 8, no value within 0.05 of a bound but the first two, on them
                float v = x.getFlat(i) * 5.5f + 2.5f;
                v = Math.abs(v - min) < 0.05f || Math.abs(v - max) < 0.05f ? v + 0.1f : v;
                x.setFlat(i, i == 0 ? min : i == 1 ? max : v);
            }
            reference.clipForward(min, max, x, yRef);
            reference.clipBackward(min, max, x, g, dxRef);
            assertEquals(0f, dxRef.getFlat(0), "no gradient at the lower bound");
            assertEquals(0f, dxRef.getFlat(1), "no gradient at the upper bound");
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(s); Tensor dx = Tensor.allocate(s).fill(7f)) {
                    String what = ops.name() + " clip [" + min + ", " + max + "] on " + s;
                    ops.clipForward(min, max, x, y);
                    ops.clipBackward(min, max, x, g, dx);
                    assertClose(what + " forward", yRef, y, 1);
                    assertClose(what + " backward", dxRef, dx, 1);
                    x.setFlat(0, min - 1); // away from the bounds for finite differences
                    x.setFlat(1, max + 1);
                    ops.clipBackward(min, max, x, g, dx);
                    assertGradient(what, () -> ops.clipForward(min, max, x, y), y, g, x, dx, 1e-2, 12, seed);
                    x.setFlat(0, min);
                    x.setFlat(1, max);
                }
            }
        }
    }

    static Stream<Arguments> softmaxShapes() {
        return Stream.of(false, true).flatMap(log -> Stream.of(Shape.of(1, 1), Shape.of(1, 10), Shape.of(4, 7), Shape.of(3, 1000),
                Shape.of(2, 5, 3, 3)).map(s -> Arguments.of(log, s)));
    }

    @ParameterizedTest(name = "log={0} on {1}")
    @MethodSource("softmaxShapes")
    void softmaxAgreesAndMatchesFiniteDifferences(boolean log, Shape s) {
        long seed = s.hashCode() + (log ? 7 : 0);
        try (Tensor x = random(s, seed); Tensor g = random(s, seed + 1);
             Tensor yRef = Tensor.allocate(s); Tensor dxRef = Tensor.allocate(s)) {
            // Large logits: a naive exp would overflow; the max subtraction keeps it finite.
            x.setFlat(0, 80f);
            reference.softmaxForward(x, yRef, log);
            reference.softmaxBackward(yRef, g, dxRef, log);
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(s); Tensor dx = Tensor.allocate(s).fill(7f)) {
                    String what = ops.name() + (log ? " log-softmax " : " softmax ") + s;
                    ops.softmaxForward(x, y, log);
                    ops.softmaxBackward(y, g, dx, log);
                    assertClose(what + " forward", yRef, y, s.dim(1));
                    assertClose(what + " backward", dxRef, dx, s.dim(1));
                    assertGradient(what, () -> ops.softmaxForward(x, y, log), y, g, x, dx, 1e-2, 12, seed);
                    if (!log) {
                        long inner = s.size() / s.dim(0) / s.dim(1);
                        double total = 0;
                        for (long i = 0; i < s.size(); i++) {
                            total += y.getFlat(i);
                        }
                        assertEquals(s.dim(0) * inner, total, 1e-4 * s.size(), what + ": probabilities sum to 1 per position");
                    }
                }
            }
        }
    }

    static Stream<Arguments> lrnCases() {
        return Stream.of(
                Arguments.of(Shape.of(1, 1, 3, 3), new LrnSpec(1, 0.5f, 0.75f, 1f)),
                Arguments.of(Shape.of(2, 7, 5, 4), LrnSpec.alexNet()),
                Arguments.of(Shape.of(1, 3, 2, 2), new LrnSpec(3, 1f, 0.75f, 2f)),
                Arguments.of(Shape.of(1, 16, 4, 4), new LrnSpec(5, 2f, 0.75f, 1f)),
                Arguments.of(Shape.of(3, 4, 1, 5), new LrnSpec(7, 1.5f, 0.5f, 1.5f)));
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("lrnCases")
    void lrnAgreesAndMatchesFiniteDifferences(Shape s, LrnSpec spec) {
        long seed = s.hashCode();
        try (Tensor x = random(s, seed); Tensor g = random(s, seed + 1); Tensor yRef = Tensor.allocate(s);
             Tensor dxRef = Tensor.allocate(s); Ops.Workspace wsRef = reference.lrnWorkspace(spec, s)) {
            reference.lrnForward(spec, x, yRef, wsRef);
            reference.lrnBackward(spec, x, g, wsRef, dxRef);
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(s); Tensor yInference = Tensor.allocate(s); Tensor dx = Tensor.allocate(s).fill(7f);
                     Ops.Workspace ws = ops.lrnWorkspace(spec, s)) {
                    String what = ops.name() + " LRN " + spec + " on " + s;
                    ops.lrnForward(spec, x, y, ws);
                    ops.lrnForward(spec, x, yInference, null);
                    ops.lrnBackward(spec, x, g, ws, dx);
                    assertClose(what + " forward", yRef, y, spec.size());
                    assertClose(what + " forward (inference)", yRef, yInference, spec.size());
                    assertClose(what + " backward", dxRef, dx, spec.size() * 2L);
                    assertGradient(what, () -> ops.lrnForward(spec, x, y, null), y, g, x, dx, 1e-2, 12, seed);
                }
            }
        }
    }
}
