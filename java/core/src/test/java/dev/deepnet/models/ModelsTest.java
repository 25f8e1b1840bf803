package dev.deepnet.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.nn.Model;
import dev.deepnet.nn.Parameter;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.SoftmaxCrossEntropy;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ModelsTest {

    @Test
    void alexNetHasItsParameterCountAndRunsForwardAndBackwardAtBatch2() {
        try (Model net = AlexNet.create(1000, 1); Ops ops = new OneDnnOps()) {
            // conv1 34,944 + conv2 614,656 + conv3 885,120 + conv4 1,327,488 + conv5 884,992
            // + fc6 37,752,832 + fc7 16,781,312 + fc8 4,097,000
            assertEquals(62_378_344L, net.parameterCount());
            assertEquals(Shape.of(1, 1000), net.shapes(1)[net.output().index()]);
            assertTrue(net.flopsPerSample() > 2_000_000_000L && net.flopsPerSample() < 2_500_000_000L,
                    "about 2.3 GFLOP per image: " + net.flopsPerSample());
            try (Plan plan = net.compileForTraining(ops, 2, 1); Tensor target = Tensor.allocate(Shape.of(2, 1000))) {
                SplittableRandom r = new SplittableRandom(1);
                for (long i = 0; i < plan.input().size(); i++) {
                    plan.input().setFlat(i, (float) r.nextDouble(-1, 1));
                }
                target.setFlat(3, 1f);
                target.setFlat(1000 + 997, 1f);
                plan.forward(true);
                double loss = new SoftmaxCrossEntropy().evaluate(plan.output(), target, plan.outputGradient());
                assertTrue(Double.isFinite(loss) && loss > 0, "a finite loss: " + loss);
                plan.backward();
                for (Parameter p : net.parameters()) {
                    Tensor g = plan.gradient(p);
                    double norm = 0;
                    for (long i = 0; i < g.size(); i++) {
                        norm += (double) g.getFlat(i) * g.getFlat(i);
                    }
                    assertTrue(Double.isFinite(norm), p + " gradient is finite");
                }
                double conv1 = 0;
                Tensor g1 = plan.gradient(net.parameters().get(0));
                for (long i = 0; i < g1.size(); i++) {
                    conv1 += Math.abs(g1.getFlat(i));
                }
                assertTrue(conv1 > 0, "the gradient reaches the first layer");
            }
        }
    }

    @Test
    void thePapersAlexNetHasTwoGroupsAndItsParameterCountAndRunsLikeItsGroupedLayers() {
        try (Model net = AlexNet.paper(1000, 1); Ops ops = new OneDnnOps()) {
            // conv1 34,944 + conv2 307,456 + conv3 885,120 + conv4 663,936 + conv5 442,624
            // + fc6 37,752,832 + fc7 16,781,312 + fc8 4,097,000
            assertEquals(60_965_224L, net.parameterCount());
            assertEquals(Shape.of(1, 1000), net.shapes(1)[net.output().index()]);
            try (Model full = AlexNet.create(1000, 1)) {
                assertEquals(full.layers().stream().map(dev.deepnet.nn.Layer::name).toList(),
                        net.layers().stream().map(dev.deepnet.nn.Layer::name).toList(), "the same layers, named alike");
            }
            try (Plan plan = net.compileForInference(ops, 1)) {
                SplittableRandom r = new SplittableRandom(2);
                for (long i = 0; i < plan.input().size(); i++) {
                    plan.input().setFlat(i, (float) r.nextDouble(-1, 1));
                }
                plan.forward(false);
                for (long i = 0; i < 1000; i++) {
                    assertTrue(Float.isFinite(plan.output().getFlat(i)));
                }
            }
        }
    }

    @Test
    void leNetShapes() {
        try (Model net = LeNet.create(10, 1)) {
            assertEquals(Shape.of(1, 10), net.shapes(1)[net.output().index()]);
            assertTrue(net.summary().contains("conv2"), net.summary());
        }
    }
}
