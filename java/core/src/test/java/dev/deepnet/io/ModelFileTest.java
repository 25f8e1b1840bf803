package dev.deepnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import dev.deepnet.nn.Lrn;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Relu;
import dev.deepnet.nn.Sigmoid;
import dev.deepnet.nn.Softmax;
import dev.deepnet.nn.Tanh;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {

    /** Every layer type, in a DAG with both joins. */
    static Model everyLayer() {
        Model.Builder b = Model.builder(Shape.of(2, 9, 9));
        Node conv = b.add(new Conv2d(2, 4, 3, 3, new Conv2dSpec(1, 1, 1, 0, 1, 2, 1, 1)), b.input());
        Node relu = b.add(new Relu(), conv);
        Node grouped = b.add(new Conv2d(4, 4, 3, 3, Conv2dSpec.of(1, 1).withGroups(2)), relu);
        BatchNorm2d norm = new BatchNorm2d(4, new dev.deepnet.ops.BatchNormSpec(1e-3f, 0.2f));
        Node normed = b.add(norm, grouped);
        Node lrn = b.add(new Lrn(), normed);
        Node max = b.add(new MaxPool2d(Pool2dSpec.of(2, 2, 0).withCeilMode(true)), lrn); // 9 -> 5, rounding up
        Node avg = b.add(new AvgPool2d(Pool2dSpec.of(2, 2, 0).withCeilMode(true)), lrn);
        Node adaptive = b.add(new AdaptiveAvgPool2d(5, 5), lrn); // 9 to 5: unequal bins
        Node cat = b.add(new Concat(), max, avg, adaptive);
        Node flat = b.add(new Flatten(), cat);
        Node drop = b.add(new Dropout(0.25), flat);
        Node a = b.add(new Dense(300, 6, Activation.SIGMOID), drop);
        Node c = b.add(new Dense(300, 6), drop);
        Node th = b.add(new Tanh(), b.add(new Clip(-0.5f, 0.75f), c));
        Node sig = b.add(new Sigmoid(), th);
        Node sum = b.add(new Add(), a, sig);
        Node out = b.add(new Softmax(), b.add(new Dense(6, 3), sum));
        Model model = b.build(out, 4);
        // running statistics as training leaves them, not the initial 0 and 1: they are saved and loaded too
        norm.runningMean().value().copyFrom(new float[] {0.5f, -0.25f, 0.125f, 1f});
        norm.runningVariance().value().copyFrom(new float[] {2f, 0.5f, 1.5f, 0.25f});
        norm.weight().value().copyFrom(new float[] {1.5f, 0.5f, -1f, 2f});
        return model;
    }

    @Test
    void aSavedModelLoadsWithTheSameArchitectureWeightsAndOutputs(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.safetensors");
        try (Model original = everyLayer(); Ops ops = new ReferenceOps()) {
            ModelFile.save(original, file);
            try (Model loaded = ModelFile.load(file)) {
                assertEquals(original.summary(), loaded.summary());
                assertEquals(ModelFile.architecture(original), ModelFile.architecture(loaded));
                try (Plan p1 = original.compileForInference(ops, 2); Plan p2 = loaded.compileForInference(ops, 2)) {
                    for (long i = 0; i < p1.input().size(); i++) {
                        p1.input().setFlat(i, (float) Math.sin(i));
                        p2.input().setFlat(i, (float) Math.sin(i));
                    }
                    p1.forward(false);
                    p2.forward(false);
                    assertArrayEquals(p1.output().toArray(), p2.output().toArray());
                }
            }
        }
    }

    @Test
    void weightsOnlyFilesAndBrokenArchitecturesAreRejectedClearly(@TempDir Path dir) throws IOException {
        Path weightsOnly = dir.resolve("weights.safetensors");
        try (Model m = everyLayer()) {
            ModelWeights.save(m, weightsOnly, Map.of());
        }
        SafeTensorsException none = assertThrows(SafeTensorsException.class, () -> ModelFile.load(weightsOnly));
        assertTrue(none.getMessage().contains("holds no deepnet architecture"), none.getMessage());

        Path broken = dir.resolve("broken.safetensors");
        try (Model m = Model.sequential(Shape.of(3), 1, new Dense(3, 2))) {
            String arch = ModelFile.architecture(m).replace("\"dense\"", "\"transformer\"");
            ModelWeights.save(m, broken, Map.of(ModelFile.ARCHITECTURE_KEY, arch));
        }
        SafeTensorsException unknown = assertThrows(SafeTensorsException.class, () -> ModelFile.load(broken));
        assertTrue(unknown.getMessage().contains("unknown layer type 'transformer'"), unknown.getMessage());
    }
}
