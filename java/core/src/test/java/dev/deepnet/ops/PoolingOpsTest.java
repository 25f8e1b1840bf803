package dev.deepnet.ops;

import static dev.deepnet.ops.OpCheck.assertClose;
import static dev.deepnet.ops.OpCheck.assertGradient;
import static dev.deepnet.ops.OpCheck.distinct;
import static dev.deepnet.ops.OpCheck.random;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Max pooling (with its workspace) and average pooling (counting padding or not), on both backends. */
class PoolingOpsTest extends BackendTestCase {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Shape.of(1, 1, 4, 4), Pool2dSpec.of(2, 2, 0)),
                Arguments.of(Shape.of(2, 3, 7, 9), Pool2dSpec.of(3, 2, 1)),
                Arguments.of(Shape.of(1, 2, 13, 13), Pool2dSpec.of(3, 2, 0)),
                Arguments.of(Shape.of(2, 1, 5, 6), Pool2dSpec.of(2, 1, 1)),
                Arguments.of(Shape.of(1, 3, 6, 5), Pool2dSpec.of(3, 3, 1)),
                Arguments.of(Shape.of(1, 2, 5, 8), new Pool2dSpec(2, 3, 1, 2, 1, 0, 0, 2, true)),
                Arguments.of(Shape.of(3, 16, 3, 3), Pool2dSpec.of(3, 1, 0)),
                Arguments.of(Shape.of(2, 3, 7, 6), Pool2dSpec.of(2, 2, 0).withCeilMode(true)),
                Arguments.of(Shape.of(1, 16, 8, 9), Pool2dSpec.of(3, 2, 0).withCeilMode(true)),
                Arguments.of(Shape.of(1, 2, 6, 5), Pool2dSpec.of(3, 2, 1).withCountPadding(false).withCeilMode(true)),
                Arguments.of(Shape.of(1, 2, 5, 7), new Pool2dSpec(2, 3, 2, 3, 1, 1, 0, 0, false, true)));
    }

    static Stream<Arguments> adaptive() {
        return Stream.of(Arguments.of(Shape.of(2, 3, 5, 7), Shape.of(2, 3, 3, 2)), Arguments.of(Shape.of(1, 4, 6, 6), Shape.of(1, 4, 1, 1)),
                Arguments.of(Shape.of(1, 2, 13, 13), Shape.of(1, 2, 6, 6)), Arguments.of(Shape.of(2, 2, 3, 2), Shape.of(2, 2, 5, 4)));
    }

    @ParameterizedTest(name = "adaptive avg pool {0} to {1}")
    @MethodSource("adaptive")
    void adaptiveAveragePoolingAgreesAndMatchesFiniteDifferences(Shape xs, Shape ys) {
        long seed = xs.hashCode() + ys.hashCode();
        try (Tensor x = random(xs, seed); Tensor g = random(ys, seed + 1); Tensor yRef = Tensor.allocate(ys);
             Tensor dxRef = Tensor.allocate(xs)) {
            reference.adaptiveAvgPool2dForward(x, yRef);
            reference.adaptiveAvgPool2dBackward(g, dxRef);
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(ys); Tensor dx = Tensor.allocate(xs).fill(7f)) {
                    String what = ops.name() + " adaptive avg pool " + xs + " to " + ys;
                    ops.adaptiveAvgPool2dForward(x, y);
                    ops.adaptiveAvgPool2dBackward(g, dx);
                    assertClose(what + " forward", yRef, y, 16);
                    assertClose(what + " backward", dxRef, dx, 16);
                    assertGradient(what + " dx", () -> ops.adaptiveAvgPool2dForward(x, y), y, g, x, dx, 1e-2, 16, seed);
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void adaptiveBinsArePyTorchsAndEqualBinsAreAveragePooling() {
        // 5 rows to 3: bins [0, 2), [1, 4), [3, 5), overlapping as PyTorch's do; one column
        try (Tensor x = Tensor.of(Shape.of(1, 1, 5, 1), 1, 2, 4, 8, 16); Tensor y = Tensor.allocate(Shape.of(1, 1, 3, 1))) {
            reference.adaptiveAvgPool2dForward(x, y);
            org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {1.5f, 14f / 3, 12f}, y.toArray(), 1e-6f);
        }
        Shape xs = Shape.of(2, 3, 12, 6);
        Shape ys = Shape.of(2, 3, 4, 3);
        try (Tensor x = random(xs, 5); Tensor adaptive = Tensor.allocate(ys); Tensor pooled = Tensor.allocate(ys)) {
            reference.adaptiveAvgPool2dForward(x, adaptive);
            onednn.avgPool2dForward(new Pool2dSpec(3, 2, 3, 2, 0, 0, 0, 0, true), x, pooled);
            assertClose("equal bins as average pooling", adaptive, pooled, 6);
        }
    }

    @org.junit.jupiter.api.Test
    void ceilModeRoundsUpButStartsNoWindowInTheEndPadding() {
        // PyTorch's sizes: 7 by 2/2 -> 4; 6 by 3/2 padding 1 -> 4; 5 by 2/2 padding 1 -> 3 (a 4th window would start in the padding)
        org.junit.jupiter.api.Assertions.assertEquals(Shape.of(1, 1, 4, 4), Pool2dSpec.of(2, 2, 0).withCeilMode(true).outputShape(Shape.of(1, 1, 7, 7)));
        Pool2dSpec padded = Pool2dSpec.of(3, 2, 1).withCountPadding(false).withCeilMode(true);
        org.junit.jupiter.api.Assertions.assertEquals(Shape.of(1, 1, 4, 4), padded.outputShape(Shape.of(1, 1, 6, 6)));
        Pool2dSpec small = Pool2dSpec.of(2, 2, 1).withCountPadding(false).withCeilMode(true);
        org.junit.jupiter.api.Assertions.assertEquals(Shape.of(1, 1, 3, 3), small.outputShape(Shape.of(1, 1, 5, 5)));
        org.junit.jupiter.api.Assertions.assertEquals(Shape.of(1, 1, 56, 56), Pool2dSpec.of(3, 2, 0).withCeilMode(true)
                .outputShape(Shape.of(1, 1, 112, 112)), "GoogLeNet's first max pool");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Pool2dSpec.of(3, 2, 1).withCeilMode(true),
                "counted padding with ceil mode");
    }

    @ParameterizedTest(name = "max pool {1} on {0}")
    @MethodSource("cases")
    void maxPoolingAgreesAndRoutesGradientsToTheMaxima(Shape xs, Pool2dSpec spec) {
        Shape ys = spec.outputShape(xs);
        long seed = xs.hashCode();
        // Distinct values 0.01 apart: no ties, and a 1e-3 step never changes which input is the maximum.
        try (Tensor x = distinct(xs, seed, 0.01); Tensor g = random(ys, seed + 1);
             Tensor yRef = Tensor.allocate(ys); Tensor dxRef = Tensor.allocate(xs);
             Ops.Workspace wsRef = reference.maxPoolWorkspace(spec, xs)) {
            reference.maxPool2dForward(spec, x, yRef, wsRef);
            reference.maxPool2dBackward(spec, g, wsRef, dxRef);
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(ys); Tensor yInference = Tensor.allocate(ys); Tensor dx = Tensor.allocate(xs).fill(7f);
                     Ops.Workspace ws = ops.maxPoolWorkspace(spec, xs)) {
                    String what = ops.name() + " max pool " + spec + " on " + xs;
                    ops.maxPool2dForward(spec, x, y, ws);
                    ops.maxPool2dForward(spec, x, yInference, null);
                    ops.maxPool2dBackward(spec, g, ws, dx);
                    assertClose(what + " forward", yRef, y, 1);
                    assertClose(what + " forward (inference)", yRef, yInference, 1);
                    assertClose(what + " backward", dxRef, dx, spec.kernelH() * spec.kernelW());
                    assertGradient(what + " dx", () -> ops.maxPool2dForward(spec, x, y, null), y, g, x, dx, 1e-3, 16, seed);
                }
            }
        }
    }

    @ParameterizedTest(name = "avg pool {1} on {0}")
    @MethodSource("cases")
    void averagePoolingAgreesWithAndWithoutCountingPadding(Shape xs, Pool2dSpec base) {
        for (boolean countPadding : new boolean[] {true, false}) {
            if (countPadding && base.ceilMode() && (base.padTop() | base.padLeft() | base.padBottom() | base.padRight()) != 0) {
                continue; // not a spec (Pool2dSpec)
            }
            Pool2dSpec spec = base.withCountPadding(countPadding);
            Shape ys = spec.outputShape(xs);
            long seed = xs.hashCode() + (countPadding ? 1 : 0);
            try (Tensor x = random(xs, seed); Tensor g = random(ys, seed + 1);
                 Tensor yRef = Tensor.allocate(ys); Tensor dxRef = Tensor.allocate(xs)) {
                reference.avgPool2dForward(spec, x, yRef);
                reference.avgPool2dBackward(spec, g, dxRef);
                for (Ops ops : backends()) {
                    try (Tensor y = Tensor.allocate(ys); Tensor dx = Tensor.allocate(xs).fill(7f)) {
                        String what = ops.name() + " avg pool " + spec + " on " + xs;
                        ops.avgPool2dForward(spec, x, y);
                        ops.avgPool2dBackward(spec, g, dx);
                        assertClose(what + " forward", yRef, y, spec.kernelH() * spec.kernelW());
                        assertClose(what + " backward", dxRef, dx, spec.kernelH() * spec.kernelW());
                        assertGradient(what + " dx", () -> ops.avgPool2dForward(spec, x, y), y, g, x, dx, 1e-2, 16, seed);
                    }
                }
            }
        }
    }
}
