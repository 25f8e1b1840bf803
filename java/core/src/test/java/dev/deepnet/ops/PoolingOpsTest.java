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
