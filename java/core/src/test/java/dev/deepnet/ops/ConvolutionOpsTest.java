package dev.deepnet.ops;

import static dev.deepnet.ops.OpCheck.assertClose;
import static dev.deepnet.ops.OpCheck.assertGradient;
import static dev.deepnet.ops.OpCheck.random;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** 2-D convolution, forward and both backward passes, on both backends. */
class ConvolutionOpsTest extends BackendTestCase {

    /** name, x (N, C, H, W), w (O, C / groups, kH, kW), spec, bias, whether to check gradients (small cases). */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("1x1 kernel, one channel", Shape.of(1, 1, 5, 5), Shape.of(1, 1, 1, 1), Conv2dSpec.of(1, 0), true, true),
                Arguments.of("odd non-square image", Shape.of(2, 3, 7, 9), Shape.of(4, 3, 3, 3), Conv2dSpec.of(1, 1), true, true),
                Arguments.of("stride 2, asymmetric padding, 3x5 kernel", Shape.of(1, 2, 11, 8), Shape.of(5, 2, 3, 5),
                        new Conv2dSpec(2, 2, 1, 2, 0, 1, 1, 1), false, true),
                Arguments.of("dilation 2", Shape.of(2, 3, 9, 9), Shape.of(2, 3, 3, 3), Conv2dSpec.of(1, 2).withDilation(2), true, true),
                Arguments.of("stride 2 by 1, dilation 2 by 1", Shape.of(1, 2, 10, 7), Shape.of(3, 2, 3, 2),
                        new Conv2dSpec(2, 1, 1, 0, 2, 1, 2, 1), true, true),
                Arguments.of("LeNet 5x5 pad 2", Shape.of(3, 1, 10, 10), Shape.of(6, 1, 5, 5), Conv2dSpec.of(1, 2), true, true),
                Arguments.of("AlexNet-like 11x11 stride 4", Shape.of(1, 3, 23, 23), Shape.of(8, 3, 11, 11), Conv2dSpec.of(4, 0), true, false),
                Arguments.of("the lecture's 10x10 kernels", Shape.of(1, 4, 16, 16), Shape.of(12, 4, 10, 10), Conv2dSpec.of(2, 0), true, false),
                Arguments.of("kernel as large as the padded input", Shape.of(2, 2, 3, 4), Shape.of(3, 2, 5, 6), Conv2dSpec.of(1, 1), true, true),
                Arguments.of("many channels", Shape.of(2, 32, 6, 5), Shape.of(256, 32, 3, 3), Conv2dSpec.of(1, 1), true, false),
                Arguments.of("batch 1, 1 output channel", Shape.of(1, 5, 4, 6), Shape.of(1, 5, 2, 2), Conv2dSpec.of(2, 0), false, true),
                Arguments.of("2 groups", Shape.of(2, 4, 6, 5), Shape.of(6, 2, 3, 3), Conv2dSpec.of(1, 1).withGroups(2), true, true),
                Arguments.of("3 groups, stride 2, dilation 2, uneven padding", Shape.of(1, 6, 9, 8), Shape.of(3, 2, 3, 2),
                        new Conv2dSpec(2, 1, 1, 0, 2, 1, 2, 1, 3), true, true),
                Arguments.of("depthwise", Shape.of(2, 5, 7, 7), Shape.of(5, 1, 3, 3), Conv2dSpec.of(1, 1).withGroups(5), true, true),
                Arguments.of("depthwise, 2 outputs per channel, stride 2", Shape.of(1, 3, 8, 9), Shape.of(6, 1, 3, 3),
                        Conv2dSpec.of(2, 1).withGroups(3), false, true),
                Arguments.of("depthwise, 32 channels (blocked layouts)", Shape.of(2, 32, 6, 6), Shape.of(32, 1, 3, 3),
                        Conv2dSpec.of(1, 1).withGroups(32), true, false),
                Arguments.of("AlexNet conv2 in 2 groups, scaled down", Shape.of(1, 16, 9, 9), Shape.of(32, 8, 5, 5),
                        Conv2dSpec.of(1, 2).withGroups(2), true, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardAndBackwardAgreeAndMatchFiniteDifferences(String name, Shape xs, Shape ws, Conv2dSpec spec, boolean withBias,
            boolean gradients) {
        Shape ys = spec.outputShape(xs, ws);
        long reductionForward = ws.dim(1) * ws.dim(2) * ws.dim(3);
        long reductionData = ws.dim(0) * ws.dim(2) * ws.dim(3);
        long reductionWeights = ys.dim(0) * ys.dim(2) * ys.dim(3);
        long seed = xs.hashCode() * 31L + ws.hashCode();
        try (Tensor x = random(xs, seed); Tensor w = random(ws, seed + 1); Tensor b = withBias ? random(Shape.of(ws.dim(0)), seed + 2) : null;
             Tensor g = random(ys, seed + 3); Tensor yRef = Tensor.allocate(ys); Tensor dxRef = Tensor.allocate(xs);
             Tensor dwRef = Tensor.allocate(ws); Tensor dbRef = Tensor.allocate(Shape.of(ws.dim(0)))) {
            reference.conv2dForward(spec, x, w, b, yRef);
            reference.conv2dBackwardData(spec, g, w, dxRef);
            reference.conv2dBackwardWeights(spec, x, g, dwRef, withBias ? dbRef : null);
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(ys); Tensor dx = Tensor.allocate(xs).fill(7f); Tensor dw = Tensor.allocate(ws).fill(7f);
                     Tensor db = Tensor.allocate(Shape.of(ws.dim(0))).fill(7f)) {
                    String what = ops.name() + " conv " + name;
                    ops.conv2dForward(spec, x, w, b, y);
                    ops.conv2dBackwardData(spec, g, w, dx);
                    ops.conv2dBackwardWeights(spec, x, g, dw, withBias ? db : null);
                    assertClose(what + " forward", yRef, y, reductionForward);
                    assertClose(what + " backward data", dxRef, dx, reductionData);
                    assertClose(what + " backward weights", dwRef, dw, reductionWeights);
                    if (withBias) {
                        assertClose(what + " backward bias", dbRef, db, reductionWeights);
                    }
                    if (gradients) {
                        Runnable forward = () -> ops.conv2dForward(spec, x, w, b, y);
                        assertGradient(what + " dx", forward, y, g, x, dx, 1e-2, 10, seed);
                        assertGradient(what + " dw", forward, y, g, w, dw, 1e-2, 10, seed);
                        if (withBias) {
                            assertGradient(what + " db", forward, y, g, b, db, 1e-2, 10, seed);
                        }
                    }
                }
            }
        }
    }
}
