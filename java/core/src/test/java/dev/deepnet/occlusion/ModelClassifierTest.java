package dev.deepnet.occlusion;

import static dev.deepnet.occlusion.LaplacianPyramidTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.deepnet.infer.Predictor;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Softmax;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import org.junit.jupiter.api.Test;

class ModelClassifierTest {

    /** Softmax of the model's raw scores, computed here from the Predictor's output. */
    static float[] expected(Predictor predictor, float[] image) {
        float[] s = predictor.predict(image);
        double max = Double.NEGATIVE_INFINITY;
        for (float v : s) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : s) {
            sum += Math.exp(v - max);
        }
        float[] p = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            p[i] = (float) (Math.exp(s[i] - max) / sum);
        }
        return p;
    }

    @Test
    void everyBatchSizeGivesTheSoftmaxOfEachImagesOwnScores() {
        try (Model net = HalvesModel.randomConvnet(3); Ops ops = new ReferenceOps(); ModelClassifier c = new ModelClassifier(net, ops, 5);
             Predictor predictor = new Predictor(net, ReferenceOps::new, 1)) {
            assertEquals(4, c.classes());
            assertEquals(Shape.of(3, 12, 12), c.imageShape());
            for (int count : new int[] {1, 2, 3, 7, 8, 9, 17}) { // padded to 1, 2, 4, 8; split past 8
                float[] images = HalvesModel.random(count * 432, count);
                float[] p = c.probabilities(images, count);
                assertEquals(count * 4, p.length);
                for (int i = 0; i < count; i++) {
                    float[] one = java.util.Arrays.copyOfRange(images, i * 432, (i + 1) * 432);
                    float[] e = expected(predictor, one);
                    double sum = 0;
                    for (int k = 0; k < 4; k++) {
                        assertEquals(e[k], p[i * 4 + k], 1e-5, "batch of " + count + ", image " + i + ", class " + k);
                        sum += p[i * 4 + k];
                    }
                    assertEquals(1.0, sum, 1e-5);
                }
            }
        }
    }

    @Test
    void aModelThatEndsInSoftmaxIsNotSoftmaxedTwice() {
        Dense d = new Dense(4, 3);
        try (Model net = Model.sequential(Shape.of(4), 2, d, new Softmax()); Ops ops = new ReferenceOps();
             ModelClassifier c = new ModelClassifier(net, ops, 2); Predictor predictor = new Predictor(net, ReferenceOps::new, 1)) {
            float[] x = {0.5f, -1, 2, 0.25f};
            float[] direct = predictor.predict(x);
            float[] p = c.probabilities(x, 1);
            for (int k = 0; k < 3; k++) {
                assertEquals(direct[k], p[k], 1e-6);
            }
        }
    }

    @Test
    void modelsThatAreNotClassifiersAndBadBatchesAreNamed() {
        try (Ops ops = new ReferenceOps();
             Model conv = Model.sequential(Shape.of(1, 6, 6), 1, new Conv2d(1, 2, 3, 1, 1));
             Model one = Model.sequential(Shape.of(4), 1, new Flatten(), new Dense(4, 1))) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> new ModelClassifier(conv, ops, 4)),
                    "one score per class", "(2, 6, 6)");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> new ModelClassifier(one, ops, 4)), "at least 2 classes");
        }
        try (Model net = HalvesModel.handBuilt(); Ops ops = new ReferenceOps()) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> new ModelClassifier(net, ops, 0)), "maxBatch must be >= 1");
            ModelClassifier c = new ModelClassifier(net, ops, 4);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> c.probabilities(new float[144], 2)),
                    "for 2 images of (1, 12, 12) expected 288 floats, got 144");
            c.close();
            assertMessage(assertThrows(IllegalStateException.class, () -> c.probabilities(new float[144], 1)), "closed");
        }
    }
}
