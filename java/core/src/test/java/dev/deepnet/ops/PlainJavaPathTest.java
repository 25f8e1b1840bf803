package dev.deepnet.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.MeanSquaredError;
import dev.deepnet.train.Sgd;
import org.junit.jupiter.api.Test;

/**
 * oneDNN's ops run calls too small to pay for a native call as plain Java loops: the lecture's
 * tiny nets create no primitive at all and compute exactly what the reference computes, while
 * real sizes still go to oneDNN.
 */
class PlainJavaPathTest {

    /** Trains the 10-3-10 sigmoid autoencoder 50 steps on one shadow; returns the final weights of both layers. */
    static float[] trainAutoencoder(Ops ops) {
        try (Model net = Model.sequential(Shape.of(10), 4, new Dense(10, 3, Activation.SIGMOID), new Dense(3, 10, Activation.SIGMOID));
             Plan plan = net.compileForTraining(ops, 1, 1);
             Tensor target = Tensor.of(Shape.of(1, 10), 1, 1, 1, 1, 0, 0, 0, 0, 0, 0)) {
            plan.input().copyFrom(target);
            Sgd sgd = new Sgd(5);
            MeanSquaredError mse = new MeanSquaredError();
            for (int i = 0; i < 50; i++) {
                plan.forward(true);
                mse.evaluate(plan.output(), target, plan.outputGradient());
                plan.backward();
                sgd.step(plan);
            }
            float[] w0 = net.parameters().get(0).value().toArray();
            float[] w1 = net.parameters().get(2).value().toArray();
            float[] both = java.util.Arrays.copyOf(w0, w0.length + w1.length);
            System.arraycopy(w1, 0, both, w0.length, w1.length);
            return both;
        }
    }

    @Test
    void tinyNetsRunInPlainJavaAndMatchTheReference() {
        try (OneDnnOps ops = new OneDnnOps(); ReferenceOps reference = new ReferenceOps()) {
            float[] fast = trainAutoencoder(ops);
            assertEquals(0, ops.kernelCount(), "no oneDNN primitive for a 10-3-10 net");
            // the same double-accumulated sums in the same order as the reference: equal to the last bit
            assertArrayEquals(trainAutoencoder(reference), fast);
        }
    }

    @Test
    void realSizesStillRunOnOneDnnAndTheSwitchTurnsThePlainPathOff() {
        try (OneDnnOps ops = new OneDnnOps(); Tensor x = OpCheck.random(Shape.of(64, 256), 1);
             Tensor w = OpCheck.random(Shape.of(128, 256), 2); Tensor y = Tensor.allocate(Shape.of(64, 128))) {
            ops.linearForward(x, w, null, y);
            assertEquals(1, ops.kernelCount(), "64 x 256 x 128 is worth a oneDNN call");
        }
        try (OneDnnOps ops = new OneDnnOps(0, 0); Tensor x = OpCheck.random(Shape.of(1, 10), 1);
             Tensor w = OpCheck.random(Shape.of(3, 10), 2); Tensor y = Tensor.allocate(Shape.of(1, 3))) {
            ops.linearForward(x, w, null, y);
            assertTrue(ops.kernelCount() == 1, "with the plain path off, even 1 x 10 x 3 runs on oneDNN");
        }
    }

    @Test
    void aLongLivedInstanceFedEverNewShapesKeepsABoundedNumberOfKernels() {
        // A service's ragged batch sizes: each new size used to add kernels for good (3,300 kernels, 589 MiB once).
        try (OneDnnOps ops = new OneDnnOps(0, 0, 8); ReferenceOps reference = new ReferenceOps();
             Tensor w = OpCheck.random(Shape.of(16, 32), 2); Tensor b = OpCheck.random(Shape.of(16), 3)) {
            for (int round = 0; round < 2; round++) {
                for (int n = 1; n <= 20; n++) {
                    try (Tensor x = OpCheck.random(Shape.of(n, 32), n); Tensor y = Tensor.allocate(Shape.of(n, 16));
                         Tensor expected = Tensor.allocate(Shape.of(n, 16))) {
                        ops.linearForward(x, w, b, y);
                        ops.activationForward(Activation.TANH, y, y);
                        reference.linearForward(x, w, b, expected);
                        reference.activationForward(Activation.TANH, expected, expected);
                        OpCheck.assertClose("batch " + n, expected, y, 32);
                        assertTrue(ops.kernelCount() <= 8, "kernels: " + ops.kernelCount());
                    }
                }
            }
        }
    }
}
