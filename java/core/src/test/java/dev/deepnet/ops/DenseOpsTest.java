package dev.deepnet.ops;

import static dev.deepnet.ops.OpCheck.assertClose;
import static dev.deepnet.ops.OpCheck.assertGradient;
import static dev.deepnet.ops.OpCheck.random;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Inner product (dense layer) and matmul on both backends. */
class DenseOpsTest extends BackendTestCase {

    @ParameterizedTest(name = "N={0} I={1} O={2} bias={3}")
    @CsvSource({"1,1,1,true", "1,7,3,false", "5,13,6,true", "16,64,33,true", "3,200,10,false", "2,1,9,true"})
    void linearForwardAndBackwardAgreeAndMatchFiniteDifferences(int n, int in, int out, boolean withBias) {
        long seed = n * 1000L + in * 10L + out;
        try (Tensor x = random(Shape.of(n, in), seed); Tensor w = random(Shape.of(out, in), seed + 1);
             Tensor b = withBias ? random(Shape.of(out), seed + 2) : null; Tensor g = random(Shape.of(n, out), seed + 3);
             Tensor yRef = Tensor.allocate(Shape.of(n, out)); Tensor dxRef = Tensor.allocate(x.shape());
             Tensor dwRef = Tensor.allocate(w.shape()); Tensor dbRef = Tensor.allocate(Shape.of(out))) {
            reference.linearForward(x, w, b, yRef);
            reference.linearBackwardData(g, w, dxRef);
            reference.linearBackwardWeights(x, g, dwRef, withBias ? dbRef : null);
            for (Ops ops : backends()) {
                try (Tensor y = Tensor.allocate(Shape.of(n, out)); Tensor dx = Tensor.allocate(x.shape());
                     Tensor dw = Tensor.allocate(w.shape()); Tensor db = Tensor.allocate(Shape.of(out))) {
                    String name = ops.name() + " linear";
                    ops.linearForward(x, w, b, y);
                    ops.linearBackwardData(g, w, dx);
                    ops.linearBackwardWeights(x, g, dw, withBias ? db : null);
                    assertClose(name + " forward", yRef, y, in);
                    assertClose(name + " backward data", dxRef, dx, out);
                    assertClose(name + " backward weights", dwRef, dw, n);
                    Runnable forward = () -> ops.linearForward(x, w, b, y);
                    assertGradient(name + " dx", forward, y, g, x, dx, 1e-2, 12, seed);
                    assertGradient(name + " dw", forward, y, g, w, dw, 1e-2, 12, seed);
                    if (withBias) {
                        assertClose(name + " backward bias", dbRef, db, n);
                        assertGradient(name + " db", forward, y, g, b, db, 1e-2, 12, seed);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}x{1} times {1}x{2}")
    @CsvSource({"1,1,1", "3,5,7", "64,128,32", "17,1,9"})
    void matmulAgrees(int m, int k, int n) {
        try (Tensor a = random(Shape.of(m, k), 1); Tensor b = random(Shape.of(k, n), 2);
             Tensor ref = Tensor.allocate(Shape.of(m, n)); Tensor out = Tensor.allocate(Shape.of(m, n))) {
            reference.matmul(a, b, ref);
            onednn.matmul(a, b, out);
            assertClose("matmul", ref, out, k);
        }
    }
}
