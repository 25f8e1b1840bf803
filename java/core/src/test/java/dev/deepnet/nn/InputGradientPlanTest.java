package dev.deepnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.ops.Activation;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.SoftmaxCrossEntropy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link Model#compileForInputGradient}: dLoss/dInput of the inference net, and nothing else. */
class InputGradientPlanTest {

    static Stream<String> backends() {
        return Stream.of("reference", "onednn");
    }

    static Ops ops(String name) {
        return name.equals("onednn") ? new OneDnnOps(0, 0) : new ReferenceOps();
    }

    /** Conv, max pooling (needs its workspace backward), dropout (must be off), dense. */
    static Model convNet() {
        return Model.sequential(Shape.of(1, 6, 6), 5, new Conv2d(1, 3, 3, 1, 1), new Tanh(), new MaxPool2d(2, 2), new Flatten(),
                new Dense(27, 8, Activation.TANH), new Dropout(0.5), new Dense(8, 3));
    }

    static void fill(Tensor t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.size(); i++) {
            t.setFlat(i, (float) r.nextDouble(-1, 1));
        }
    }

    static float[] allParameters(Model net) {
        List<Float> all = new ArrayList<>();
        for (Parameter p : net.parameters()) {
            for (float v : p.value().toArray()) {
                all.add(v);
            }
        }
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return out;
    }

    /**
     * The input gradient matches central finite differences of the loss of the inference net
     * (dropout off), even when forward is called with training = false: the plan records its
     * pooling workspace anyway.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void theInputGradientIsThatOfTheInferenceNet(String backend) {
        try (Ops ops = ops(backend); Model net = convNet(); Plan plan = net.compileForInputGradient(ops, 2);
             Plan inference = net.compileForInference(ops, 2); Tensor target = Tensor.of(Shape.of(2, 3), 0, 1, 0, 0, 0, 1)) {
            fill(plan.input(), 7);
            SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
            plan.forward(false);
            loss.evaluate(plan.output(), target, plan.outputGradient());
            plan.backward();
            float[] dx = plan.inputGradient().toArray();
            SplittableRandom r = new SplittableRandom(3);
            double h = 1e-3;
            for (int s = 0; s < 12; s++) {
                long i = r.nextLong(plan.input().size());
                inference.input().copyFrom(plan.input());
                float v = inference.input().getFlat(i);
                inference.input().setFlat(i, (float) (v + h));
                inference.forward(false);
                double plus = loss.value(inference.output(), target);
                inference.input().setFlat(i, (float) (v - h));
                inference.forward(false);
                double minus = loss.value(inference.output(), target);
                double fd = (plus - minus) / (2 * h);
                assertTrue(Math.abs(fd - dx[(int) i]) <= 2e-3 + 1e-2 * Math.abs(fd),
                        backend + ": dLoss/dInput[" + i + "] is " + dx[(int) i] + " but finite differences give " + fd);
            }
        }
    }

    /** Repeated passes give the same gradient: no dropout mask is drawn. */
    @Test
    void dropoutIsOffSoEveryPassIsTheSame() {
        try (Ops ops = new ReferenceOps(); Model net = convNet(); Plan plan = net.compileForInputGradient(ops, 2);
             Tensor target = Tensor.of(Shape.of(2, 3), 1, 0, 0, 0, 1, 0)) {
            fill(plan.input(), 9);
            float[] first = null;
            for (int pass = 0; pass < 3; pass++) {
                plan.forward(true);
                new SoftmaxCrossEntropy().evaluate(plan.output(), target, plan.outputGradient());
                plan.backward();
                float[] dx = plan.inputGradient().toArray();
                if (first == null) {
                    first = dx;
                } else {
                    assertArrayEquals(first, dx, "pass " + pass);
                }
            }
        }
    }

    /**
     * No parameter gradient exists or is allocated (the plan allocates less than a training plan
     * by at least the parameters' size), frozen flags are not touched, and the weights stay bit
     * for bit what they were.
     */
    @Test
    void noParameterGradientIsComputedAndTheModelIsOnlyRead() {
        try (Ops ops = new ReferenceOps(); Model net = convNet(); Tensor target = Tensor.of(Shape.of(4, 3), 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0)) {
            net.layers().get(0).freeze(); // a mix of frozen and trainable layers stays as it is
            float[] before = allParameters(net);
            long parameterBytes = net.parameterCount() * Float.BYTES;
            long start = Tensor.bytesAllocated();
            try (Plan training = net.compileForTraining(ops, 4, 1, true)) {
                long trainingBytes = Tensor.bytesAllocated() - start;
                assertNotNull(training.gradient(net.parameters().get(2)));
                start = Tensor.bytesAllocated();
                try (Plan plan = net.compileForInputGradient(ops, 4)) {
                    long planBytes = Tensor.bytesAllocated() - start;
                    assertTrue(trainingBytes - planBytes >= parameterBytes - net.layers().get(0).parameters().stream()
                            .mapToLong(p -> p.shape().size() * Float.BYTES).sum(),
                            "no parameter gradient buffers: " + planBytes + " bytes vs " + trainingBytes + " for training");
                    assertTrue(plan.isInputGradientOnly());
                    assertTrue(plan.trainableParameters().isEmpty());
                    for (Parameter p : net.parameters()) {
                        assertNull(plan.gradient(p), p.toString());
                    }
                    fill(plan.input(), 1);
                    for (int i = 0; i < 5; i++) {
                        plan.forward(true);
                        new SoftmaxCrossEntropy().evaluate(plan.output(), target, plan.outputGradient());
                        plan.backward();
                    }
                    assertNotNull(plan.inputGradient());
                }
            }
            assertArrayEquals(before, allParameters(net), "bit for bit");
            assertTrue(net.layers().get(0).parameters().get(0).isFrozen());
            assertFalse(net.layers().get(4).parameters().get(0).isFrozen());
        }
    }

    /** On a net without dropout the input gradient is the one a training plan computes. */
    @Test
    void theInputGradientEqualsTheTrainingPlansWithoutDropout() {
        try (Ops ops = new ReferenceOps();
             Model net = Model.sequential(Shape.of(1, 6, 6), 2, new Conv2d(1, 2, 3, 1, 1), new Relu(), new MaxPool2d(2, 2), new Flatten(),
                     new Dense(18, 4));
             Plan training = net.compileForTraining(ops, 3, 1, true); Plan plan = net.compileForInputGradient(ops, 3);
             Tensor target = Tensor.of(Shape.of(3, 4), 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1)) {
            fill(training.input(), 4);
            plan.input().copyFrom(training.input());
            for (Plan p : List.of(training, plan)) {
                p.forward(true);
                new SoftmaxCrossEntropy().evaluate(p.output(), target, p.outputGradient());
                p.backward();
            }
            assertArrayEquals(training.inputGradient().toArray(), plan.inputGradient().toArray());
            assertEquals(0, plan.trainableParameters().size());
        }
    }
}
