package dev.deepnet.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import dev.deepnet.models.AlexNet;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.AdaptiveAvgPool2d;
import dev.deepnet.nn.Add;
import dev.deepnet.nn.AvgPool2d;
import dev.deepnet.nn.BatchNorm2d;
import dev.deepnet.nn.Clip;
import dev.deepnet.nn.Concat;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Dropout;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Lrn;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.nn.Parameter;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Relu;
import dev.deepnet.nn.Sigmoid;
import dev.deepnet.nn.Softmax;
import dev.deepnet.nn.Tanh;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.BackendTestCase;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.MeanSquaredError;
import dev.deepnet.train.LearningRateSchedule;
import dev.deepnet.train.Sgd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nets built and trained in deepnet, saved as ONNX: ONNX Runtime runs the file to the same outputs,
 * and loading it back gives the same model (names, parameters, outputs), on every backend.
 */
class OnnxRoundTripTest extends BackendTestCase {

    @TempDir
    Path dir;

    /** A small DAG with every layer kind deepnet writes, both joins and a softmax at the end. */
    static Model everyLayer() {
        Model.Builder b = Model.builder(Shape.of(2, 7, 7));
        Node conv = b.add( // (3, 4, 6)
                new Conv2d(2, 3, 3, 2, new Conv2dSpec(2, 1, 1, 0, 2, 1, 1, 2)), b.input());
        Node depthwise = b.add(new Conv2d(3, 3, 3, 3, Conv2dSpec.of(1, 1).withGroups(3)), b.add(new Relu(), conv));
        BatchNorm2d norm = new BatchNorm2d(3, new dev.deepnet.ops.BatchNormSpec(1e-3f, 0.2f));
        Node lrn = b.add(new Lrn(), b.add(norm, depthwise));
        Node max = b.add(new MaxPool2d(new Pool2dSpec(3, 2, 1, 1, 1, 1, 2, 1, true)), lrn);
        Node avg = b.add(new AvgPool2d(Pool2dSpec.of(2, 1, 1).withCountPadding(false)), lrn);
        Node avg2 = b.add(new AvgPool2d(Pool2dSpec.of(2, 1, 1)), lrn);
        Node flat = b.add(new Flatten(), b.add(new Concat(), max, avg, avg2));
        Node drop = b.add(new Dropout(0.25), flat);
        long features = 3L * 5 * 7 * 3; // conv (3, 4, 6), each pooling (3, 5, 7)
        Node left = b.add(new Dense((int) features, 4, Activation.TANH), drop);
        Node mid = b.add(new Sigmoid(), b.add(new Clip(-0.5f, 0.75f), b.add(new Dense((int) features, 4), drop)));
        Node right = b.add(new Tanh(), b.add(new Dense((int) features, 4, Activation.SIGMOID), drop));
        Node sum = b.add(new Add(), left, mid, right);
        Node pair = b.add(new Add(), sum, b.add(new Dense(4, 4, Activation.RELU), sum));
        Model model = b.build(b.add(new Softmax(), pair), 5);
        norm.runningMean().value().copyFrom(new float[] {0.25f, -0.5f, 0.125f}); // as training leaves them
        norm.runningVariance().value().copyFrom(new float[] {2f, 0.5f, 1.25f});
        norm.bias().value().copyFrom(new float[] {0.5f, -1f, 0.25f});
        return model;
    }

    @Test
    void everyLayerKindRunsInOnnxRuntimeAndLoadsBack() throws Exception {
        try (Model model = everyLayer()) {
            roundTrip(model, dir.resolve("every.onnx"), false, List.of(1, 4), backends());
        }
    }

    @Test
    void ceilModeAndAdaptivePoolingRunInOnnxRuntimeAndLoadBack() throws Exception {
        try (Model model = Model.sequential(Shape.of(3, 7, 8), 2, new MaxPool2d(Pool2dSpec.of(2, 2, 0).withCeilMode(true)),
                new AvgPool2d(Pool2dSpec.of(2, 2, 0).withCeilMode(true)), new Flatten())) {
            roundTrip(model, dir.resolve("ceil.onnx"), false, List.of(2), backends());
        }
        // adaptive pooling with equal bins (an AveragePool), then global (a GlobalAveragePool)
        try (Model model = Model.sequential(Shape.of(3, 8, 6), 2, new AdaptiveAvgPool2d(4, 2), AdaptiveAvgPool2d.global(), new Flatten())) {
            roundTrip(model, dir.resolve("adaptive.onnx"), false, List.of(2), backends());
        }
        try (Model model = Model.sequential(Shape.of(3, 7, 6), 2, new AdaptiveAvgPool2d(4, 2))) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> OnnxFile.save(model, dir.resolve("unequal.onnx")));
            assertTrue(e.getMessage().contains("unequal bins"), e.getMessage());
        }
    }

    @Test
    void leNetRunsInOnnxRuntimeAndLoadsBack() throws Exception {
        try (Model model = LeNet.create(10, 3)) {
            roundTrip(model, dir.resolve("lenet.onnx"), false, List.of(2), backends());
        }
    }

    @Test
    void externalDataRunsInOnnxRuntimeAndLoadsBack() throws Exception {
        try (Model model = LeNet.create(10, 4)) {
            Path file = dir.resolve("lenet-external.onnx");
            roundTrip(model, file, true, List.of(1), List.of(onednn));
            assertTrue(Files.size(dir.resolve("lenet-external.onnx.data")) >= 4 * model.parameterCount());
            assertTrue(Files.size(file) < 100_000, "the weights are in the data file");
        }
    }

    /** AlexNet's 58 M parameters (10 classes) at batch 1, on oneDNN: the reference's loops would take seconds. */
    @Test
    void alexNetRunsInOnnxRuntimeAndLoadsBack() throws Exception {
        try (Model model = AlexNet.create(10, 5)) {
            roundTrip(model, dir.resolve("alexnet.onnx"), false, List.of(1), List.of(onednn), false); // LeNet compares parameters
        }
    }

    /** Saves, compares ONNX Runtime with the model, loads back, compares the two models' parameters and outputs. */
    private static void roundTrip(Model model, Path file, boolean external, List<Integer> batches, List<Ops> backends)
            throws Exception {
        roundTrip(model, file, external, batches, backends, true);
    }

    private static void roundTrip(Model model, Path file, boolean external, List<Integer> batches, List<Ops> backends,
            boolean compareParameters) throws Exception {
        OnnxFile.save(model, file, external);
        try (OrtSession ort = OnnxCheck.session(file.toString()); Model loaded = OnnxFile.load(file)) {
            assertEquals(model.sampleShape(), loaded.sampleShape());
            List<Parameter> mine = model.parameters();
            List<Parameter> theirs = loaded.parameters();
            assertEquals(mine.size(), theirs.size());
            for (int i = 0; compareParameters && i < mine.size(); i++) {
                assertEquals(mine.get(i).shape(), theirs.get(i).shape());
                assertArrayEquals(mine.get(i).value().toArray(), theirs.get(i).value().toArray(), "parameter " + i);
            }
            for (int batch : batches) {
                Shape shape = model.inputShape(batch);
                float[] x = OnnxCheck.random(shape.size(), 11 + batch);
                float[] expected = OnnxCheck.run(ort, x, shape);
                for (Ops ops : backends) {
                    OnnxCheck.assertClose("deepnet at batch " + batch + " on " + ops.name(), expected, OnnxCheck.run(model, ops, x, batch));
                    OnnxCheck.assertClose("loaded back at batch " + batch + " on " + ops.name(), expected,
                            OnnxCheck.run(loaded, ops, x, batch));
                }
            }
        }
    }

    @Test
    void layerNamesSurviveTheRoundTrip() throws Exception {
        Path file = dir.resolve("names.onnx");
        try (Model model = LeNet.create(10, 3)) {
            OnnxFile.save(model, file);
            try (Model loaded = OnnxFile.load(file)) {
                assertEquals(model.layers().stream().map(Layer::name).toList(), loaded.layers().stream().map(Layer::name).toList());
            }
        }
    }

    /** Initializers are parameters like any other: a loaded model trains, and what it learned saves and loads. */
    @Test
    void aLoadedModelFineTunes() throws Exception {
        Path file = dir.resolve("mlp.onnx");
        try (Model model = Model.sequential(Shape.of(2), 7, new Dense(2, 4, Activation.TANH), new Dense(4, 1, Activation.SIGMOID))) {
            OnnxFile.save(model, file);
        }
        try (Model loaded = OnnxFile.load(file); Plan plan = loaded.compileForTraining(onednn, 4, 1);
                Tensor target = Tensor.of(Shape.of(4, 1), 0, 1, 1, 0)) {
            assertFalse(loaded.parameters().stream().anyMatch(Parameter::isFrozen));
            plan.input().copyFrom(new float[] {0, 0, 0, 1, 1, 0, 1, 1});
            Sgd sgd = new Sgd(LearningRateSchedule.constant(2.0), 0.9, 0);
            double first = 0;
            double last = 0;
            for (int i = 0; i < 300; i++) {
                plan.forward(true);
                last = new MeanSquaredError().evaluate(plan.output(), target, plan.outputGradient());
                first = i == 0 ? last : first;
                plan.backward();
                sgd.step(plan);
            }
            assertTrue(last < first / 2, "loss " + first + " -> " + last);
            Path tuned = dir.resolve("tuned.onnx");
            OnnxFile.save(loaded, tuned);
            try (Model again = OnnxFile.load(tuned)) {
                float[] x = {0, 0, 0, 1, 1, 0, 1, 1};
                assertArrayEquals(OnnxCheck.run(loaded, onednn, x, 4), OnnxCheck.run(again, onednn, x, 4));
            }
        }
    }
}
