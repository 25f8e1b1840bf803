package dev.deepnet.ops;

import static dev.deepnet.ops.OpCheck.assertClose;
import static dev.deepnet.ops.OpCheck.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Add, multiply, sum, gradient accumulation and permutation (a reorder), on both backends. */
class ArithmeticOpsTest extends BackendTestCase {

    static Stream<Shape> shapes() {
        return Stream.of(Shape.of(1), Shape.of(13), Shape.of(4, 9), Shape.of(2, 3, 5, 7));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void addMultiplySumAndAccumulateMatchTheirDefinitions(Shape s) {
        try (Tensor a = random(s, 1); Tensor b = random(s, 2); Tensor c = random(s, 3)) {
            for (Ops ops : backends()) {
                try (Tensor sum = Tensor.allocate(s); Tensor product = Tensor.allocate(s); Tensor total = Tensor.allocate(s);
                     Tensor acc = Tensor.allocate(s).copyFrom(a)) {
                    ops.add(a, b, sum);
                    ops.multiply(a, b, product);
                    ops.sum(List.of(a, b, c), total);
                    ops.accumulate(b, acc);
                    for (long i = 0; i < s.size(); i++) {
                        String at = ops.name() + " " + s + " at " + i;
                        assertEquals(a.getFlat(i) + b.getFlat(i), sum.getFlat(i), 1e-6, "add " + at);
                        assertEquals(a.getFlat(i) * b.getFlat(i), product.getFlat(i), 1e-6, "multiply " + at);
                        assertEquals(a.getFlat(i) + b.getFlat(i) + c.getFlat(i), total.getFlat(i), 1e-5, "sum " + at);
                        assertEquals(a.getFlat(i) + b.getFlat(i), acc.getFlat(i), 1e-6, "accumulate " + at);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void addWithAFusedActivationIsTheActivationOfTheSum(Shape s) {
        try (Tensor a = random(s, 4); Tensor b = random(s, 5)) {
            for (Activation f : Activation.values()) {
                for (Ops ops : backends()) {
                    try (Tensor y = Tensor.allocate(s); Tensor sum = Tensor.allocate(s); Tensor expected = Tensor.allocate(s)) {
                        ops.add(a, b, y, f);
                        reference.add(a, b, sum);
                        reference.activationForward(f, sum, expected);
                        assertClose(ops.name() + " " + f + " " + s, expected, y, 2);
                    }
                }
            }
        }
    }

    @Test
    void sumOfManyInputsAgrees() {
        Shape s = Shape.of(3, 17);
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            inputs.add(random(s, 10 + i));
        }
        try (Tensor ref = Tensor.allocate(s); Tensor out = Tensor.allocate(s)) {
            reference.sum(inputs, ref);
            onednn.sum(inputs, out);
            assertClose("sum of 9", ref, out, 9);
        } finally {
            inputs.forEach(Tensor::close);
        }
    }

    static Stream<Arguments> permutations() {
        return Stream.of(
                Arguments.of(Shape.of(2, 3, 4, 5), new int[] {0, 2, 3, 1}), // NCHW -> NHWC
                Arguments.of(Shape.of(2, 4, 5, 3), new int[] {0, 3, 1, 2}), // NHWC -> NCHW
                Arguments.of(Shape.of(7, 3), new int[] {1, 0}),
                Arguments.of(Shape.of(1, 1, 1), new int[] {2, 0, 1}),
                Arguments.of(Shape.of(3, 1, 4, 2), new int[] {3, 2, 1, 0}),
                Arguments.of(Shape.of(2, 3, 1, 2, 3, 2), new int[] {5, 0, 3, 1, 4, 2}), // beyond oneDNN's plain format tags
                Arguments.of(Shape.of(1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2), new int[] {11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
    }

    @ParameterizedTest
    @MethodSource("permutations")
    void permuteMovesEveryElementWhereTheOrderSays(Shape xs, int[] order) {
        long[] yd = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            yd[i] = xs.dim(order[i]);
        }
        Shape ys = Shape.of(yd);
        try (Tensor x = random(xs, 5); Tensor ref = Tensor.allocate(ys); Tensor out = Tensor.allocate(ys)) {
            reference.permute(x, order, ref);
            onednn.permute(x, order, out);
            assertClose("permute", ref, out, 1);
            // Spot-check the definition: y[j] = x[i] with i[order[k]] = j[k].
            long[] xStrides = xs.strides();
            long[] yStrides = ys.strides();
            for (long flat = 0; flat < ys.size(); flat++) {
                long rest = flat;
                long xFlat = 0;
                for (int k = 0; k < order.length; k++) {
                    long jk = rest / yStrides[k];
                    rest %= yStrides[k];
                    xFlat += jk * xStrides[order[k]];
                }
                assertEquals(x.getFlat(xFlat), out.getFlat(flat), "element " + flat);
            }
        }
    }

    @Test
    void permuteRefusesMoreDimensionsThanOneDnnSupportsOnEveryBackend() {
        Shape s13 = Shape.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2);
        int[] order = {12, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        Shape t13 = Shape.of(2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        try (Tensor x = Tensor.allocate(s13); Tensor y = Tensor.allocate(t13)) {
            for (Ops ops : List.of(reference, onednn)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ops.permute(x, order, y));
                assertTrue(e.getMessage().contains("at most 12"), e.getMessage());
            }
        }
    }
}
