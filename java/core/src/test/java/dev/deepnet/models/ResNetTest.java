package dev.deepnet.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.Adam;
import dev.deepnet.train.SoftmaxCrossEntropy;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ResNetTest {

    @Test
    void theSmallResNetHasItsShapesAndParameters() {
        try (Model net = ResNet.create(10, 1)) {
            assertEquals(Shape.of(1, 10), net.shapes(1)[net.output().index()]);
            // stem 32*9+32, bn 64; stage1 2*(32*32*9+32) + 2*64; stage2 32*64*9+64 + 64*64*9+64 + 32*64+64 + 3*128;
            // stage3 64*128*9+128 + 128*128*9+128 + 64*128+128 + 3*256; fc 128*10+10
            long expected = 320 + 64 + 2 * (9216 + 32) + 128 + (18432 + 64) + (36864 + 64) + (2048 + 64) + 384
                    + (73728 + 128) + (147456 + 128) + (8192 + 128) + 768 + 1290;
            assertEquals(expected, net.parameterCount());
        }
    }

    @Test
    void itLearnsABatchOnBothBackendsAlike() {
        float[] x = new float[8 * 28 * 28];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        double[] last = new double[2];
        Ops[] backends = {new ReferenceOps(), new OneDnnOps(0, 0)};
        for (int k = 0; k < 2; k++) {
            try (Ops ops = backends[k]; Model net = ResNet.create(10, 1); Plan plan = net.compileForTraining(ops, 8, 2);
                 Tensor target = Tensor.allocate(Shape.of(8, 10))) {
                for (int i = 0; i < 8; i++) {
                    target.set(1f, i, i % 10);
                }
                plan.input().copyFrom(x);
                Adam adam = new Adam(0.01);
                SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
                double first = 0;
                for (int step = 0; step < 15; step++) {
                    plan.forward(true);
                    double l = loss.evaluate(plan.output(), target, plan.outputGradient());
                    if (step == 0) {
                        first = l;
                    }
                    last[k] = l;
                    plan.backward();
                    adam.step(plan);
                }
                assertTrue(last[k] < first / 2, ops.name() + ": loss " + first + " -> " + last[k]);
            }
        }
        assertEquals(last[0], last[1], 1e-2 * Math.max(1, last[0]), "both backends train it alike");
    }
}
