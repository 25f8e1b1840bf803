package dev.deepnet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import org.junit.jupiter.api.Test;

class OptimizerTest {

    /** One linear neuron, one sample: hand-computed updates. */
    @Test
    void sgdWithMomentumAndDecayAndAdamFollowTheirFormulas() {
        try (ReferenceOps ops = new ReferenceOps()) {
            Dense d = new Dense(1, 1);
            try (Model net = Model.sequential(Shape.of(1), 1, d); Plan plan = net.compileForTraining(ops, 1, 1)) {
                d.weight().value().setFlat(0, 2f);
                d.bias().value().setFlat(0, 0f);
                plan.input().setFlat(0, 3f);
                Sgd sgd = new Sgd(LearningRateSchedule.constant(0.1), 0.5, 0.01);
                // L = y (dL/dy = 1): dL/dw = x = 3, dL/db = 1.
                plan.forward(true);
                plan.outputGradient().setFlat(0, 1f);
                plan.backward();
                sgd.step(plan); // g = 3 + 0.01 * 2 = 3.02; v = 3.02; w = 2 - 0.302
                assertEquals(1.698, d.weight().value().getFlat(0), 1e-6);
                plan.forward(true);
                plan.outputGradient().setFlat(0, 1f);
                plan.backward();
                sgd.step(plan); // g = 3 + 0.01 * 1.698; v = 0.5 * 3.02 + g; w -= 0.1 v
                double g2 = 3 + 0.01 * 1.698;
                assertEquals(1.698 - 0.1 * (0.5 * 3.02 + g2), d.weight().value().getFlat(0), 1e-5);

                d.weight().value().setFlat(0, 2f);
                Adam adam = new Adam(0.1);
                plan.forward(true);
                plan.outputGradient().setFlat(0, 1f);
                plan.backward();
                adam.step(plan); // first Adam step moves by rate * sign(g) (bias correction makes m^/sqrt(v^) = 1)
                assertEquals(1.9, d.weight().value().getFlat(0), 1e-5);
            }
        }
    }

    @Test
    void schedules() {
        assertEquals(0.1, LearningRateSchedule.constant(0.1).rate(1000), 0);
        assertEquals(0.025, LearningRateSchedule.stepDecay(0.1, 10, 0.5).rate(25), 1e-12);
        assertEquals(0.1 * Math.pow(0.9, 3), LearningRateSchedule.exponential(0.1, 0.9).rate(3), 1e-12);
        assertEquals(0.1, LearningRateSchedule.cosine(0.1, 100, 0).rate(0), 1e-12);
        assertEquals(0.05, LearningRateSchedule.cosine(0.1, 100, 0).rate(50), 1e-12);
        assertEquals(0.0, LearningRateSchedule.cosine(0.1, 100, 0).rate(100), 1e-12);
    }
}
