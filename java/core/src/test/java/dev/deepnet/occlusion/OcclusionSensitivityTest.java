package dev.deepnet.occlusion;

import static dev.deepnet.occlusion.LaplacianPyramidTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.deepnet.infer.Classifier;
import dev.deepnet.infer.Predictor;
import dev.deepnet.infer.SoftmaxOracle;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import org.junit.jupiter.api.Test;

class OcclusionSensitivityTest {

    @Test
    void theMapIsTheDropOfTheTrueClassAtEveryPositionEvaluatedOneByOne() {
        Shape shape = Shape.of(3, 12, 12);
        try (Model net = HalvesModel.randomConvnet(11); Ops ops = new ReferenceOps(); Classifier classifier = new Classifier(net, ops, 16);
             Predictor predictor = new Predictor(net, ReferenceOps::new, 1)) {
            float[] image = HalvesModel.random(432, 5);
            int trueClass = 2;
            SensitivityMap map = new OcclusionSensitivity(5, 3, 0.5f).map(classifier::probabilities, image, shape, trueClass);
            assertArrayEquals(new int[] {0, 3, 6, 7}, map.tops(), "0, 3, 6, then flush with the border at 12 - 5");
            assertArrayEquals(new int[] {0, 3, 6, 7}, map.lefts());
            float base = SoftmaxOracle.of(predictor.predict(image))[trueClass];
            assertEquals(base, map.baseline(), 1e-6);
            for (int r = 0; r < map.rows(); r++) {
                for (int c = 0; c < map.cols(); c++) {
                    float[] hidden = image.clone();
                    for (int ch = 0; ch < 3; ch++) {
                        for (int y = map.tops()[r]; y < map.tops()[r] + 5; y++) {
                            for (int x = map.lefts()[c]; x < map.lefts()[c] + 5; x++) {
                                hidden[ch * 144 + y * 12 + x] = 0.5f;
                            }
                        }
                    }
                    float p = SoftmaxOracle.of(predictor.predict(hidden))[trueClass];
                    assertEquals(base - p, map.drop(r, c), 1e-5, "position " + r + ", " + c);
                }
            }
        }
    }

    @Test
    void onlyPatchesOverThePixelThatMattersLowerTheClass() {
        // Class 0 is likely in proportion to pixel (6, 2) alone.
        ImageClassifier onePixel = (images, count) -> {
            float[] p = new float[2 * count];
            for (int i = 0; i < count; i++) {
                p[2 * i] = images[i * 80 + 6 * 10 + 2];
                p[2 * i + 1] = 1 - p[2 * i];
            }
            return p;
        };
        float[] image = new float[8 * 10];
        java.util.Arrays.fill(image, 0.9f);
        SensitivityMap map = new OcclusionSensitivity(3, 2, 0f).map(onePixel, image, Shape.of(8, 10), 0);
        for (int r = 0; r < map.rows(); r++) {
            for (int c = 0; c < map.cols(); c++) {
                boolean covers = map.tops()[r] <= 6 && 6 < map.tops()[r] + 3 && map.lefts()[c] <= 2 && 2 < map.lefts()[c] + 3;
                assertEquals(covers ? 0.9f : 0f, map.drop(r, c), 1e-6, "position " + map.tops()[r] + ", " + map.lefts()[c]);
            }
        }
        assertEquals(0.9f, map.maxDrop(), 1e-6);
        float[] pixels = map.perPixel();
        assertEquals(80, pixels.length);
        assertEquals(0.9f, pixels[6 * 10 + 2], 1e-6, "every patch over the pixel hides it");
        assertEquals(0f, pixels[0], 1e-6, "no patch over the corner hides it");
    }

    @Test
    void badArgumentsAreNamed() {
        ImageClassifier two = (images, count) -> {
            float[] p = new float[2 * count];
            java.util.Arrays.fill(p, 0.5f);
            return p;
        };
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new OcclusionSensitivity(0, 1, 0)), "patch", "got 0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new OcclusionSensitivity(3, 0, 0)), "stride", "got 0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new OcclusionSensitivity(3, 1, Float.NaN)), "fill");
        OcclusionSensitivity s = new OcclusionSensitivity(9, 1, 0);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> s.map(two, new float[64], Shape.of(8, 8), 0)),
                "9x9 does not fit", "8x8");
        OcclusionSensitivity ok = new OcclusionSensitivity(3, 1, 0);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> ok.map(two, new float[64], Shape.of(8, 8), 2)),
                "trueClass must be in [0, 2)", "got 2");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> ok.map(two, new float[63], Shape.of(8, 8), 0)), "got 63");
    }
}
