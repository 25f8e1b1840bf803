package dev.deepnet.adversarial;

import static dev.deepnet.adversarial.GradientSignAttackTest.assertRejected;
import static dev.deepnet.adversarial.GradientSignAttackTest.weights;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Fooling images for a small convnet trained here on bars. */
class FoolingImageGeneratorTest {

    static final int[] EVERY_CLASS = {0, 1, 2};
    static final int SIZE = BarsClassifier.SIDE * BarsClassifier.SIDE;

    static Ops ops;
    static Model net;

    @BeforeAll
    static void train() {
        // The plain-Java ops: at 8x8 pixels oneDNN's per-call cost dominates (its path is tested on the tiny net and in the lab).
        ops = new ReferenceOps();
        net = BarsClassifier.trained(ops);
    }

    @AfterAll
    static void free() {
        net.close();
        ops.close();
    }

    /** Softmax probabilities of each image, from an inference plan: an independent check. */
    static double[][] probabilities(Tensor images) {
        int n = images.shape().intDim(0);
        try (Plan p = net.compileForInference(ops, n)) {
            p.input().copyFrom(images);
            p.forward(false);
            double[][] out = new double[n][];
            for (int i = 0; i < n; i++) {
                double[] s = new double[BarsClassifier.CLASSES];
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < s.length; c++) {
                    s[c] = p.output().get(i, c);
                    max = Math.max(max, s[c]);
                }
                double sum = 0;
                for (int c = 0; c < s.length; c++) {
                    s[c] = Math.exp(s[c] - max);
                    sum += s[c];
                }
                for (int c = 0; c < s.length; c++) {
                    s[c] /= sum;
                }
                out[i] = s;
            }
            return out;
        }
    }

    @Test
    void everyClassIsReachedWithAtLeast99PercentFromNoiseAndFromBlank() {
        for (FoolingImageGenerator g : List.of(FoolingImageGenerator.fromNoise(5), FoolingImageGenerator.fromBlank(0f),
                FoolingImageGenerator.fromBlank(0.5f))) {
            try (Tensor images = Tensor.allocate(Shape.of(3, 1, BarsClassifier.SIDE, BarsClassifier.SIDE))) {
                List<FoolingImageGenerator.Fooling> fooled = g.generate(net, ops, EVERY_CLASS, images);
                double[][] p = probabilities(images);
                for (int i = 0; i < EVERY_CLASS.length; i++) {
                    FoolingImageGenerator.Fooling f = fooled.get(i);
                    assertEquals(EVERY_CLASS[i], f.targetClass());
                    assertTrue(f.reached() && f.confidence() >= 0.99, f.toString());
                    assertEquals(f.targetClass(), f.label());
                    assertTrue(p[i][EVERY_CLASS[i]] >= 0.99, "the model itself gives class " + EVERY_CLASS[i] + " " + p[i][EVERY_CLASS[i]]);
                    assertEquals(p[i][EVERY_CLASS[i]], f.confidence(), 1e-5);
                }
                for (float v : images.toArray()) {
                    assertTrue(v >= 0 && v <= 1, "pixels stay in [0, 1]: " + v);
                }
            }
        }
    }

    /**
     * A fooling image from noise is not a picture of its class: it stays far closer to the noise it
     * started from than to any bar picture.
     */
    @Test
    void imagesFromNoiseStayNoise() {
        try (Tensor images = Tensor.allocate(Shape.of(3, 1, BarsClassifier.SIDE, BarsClassifier.SIDE));
             Tensor start = Tensor.allocate(images.shape()); Dataset bars = BarsClassifier.pictures(300, 11)) {
            // Any confidence at all is reached at step 0: the images come back as the noise they start from.
            FoolingImageGenerator.fromNoise(5).confidence(1e-9).generate(net, ops, EVERY_CLASS, start);
            List<FoolingImageGenerator.Fooling> fooled = FoolingImageGenerator.fromNoise(5).generate(net, ops, EVERY_CLASS, images);
            float[] x = images.toArray();
            float[] s = start.toArray();
            float[] pictures = bars.inputs().toArray();
            for (int i = 0; i < 3; i++) {
                double fromStart = 0;
                for (int j = 0; j < SIZE; j++) {
                    fromStart = Math.max(fromStart, Math.abs(x[i * SIZE + j] - s[i * SIZE + j]));
                }
                double nearestPicture = Double.MAX_VALUE;
                for (int b = 0; b < bars.size(); b++) {
                    double d = 0;
                    for (int j = 0; j < SIZE; j++) {
                        double e = x[i * SIZE + j] - pictures[b * SIZE + j];
                        d += e * e;
                    }
                    nearestPicture = Math.min(nearestPicture, Math.sqrt(d));
                }
                assertTrue(fromStart <= fooled.get(i).steps() * 0.01 + 1e-6, "moved at most a step size per step");
                assertTrue(nearestPicture > 1.5, "class " + i + " fooling image is " + nearestPicture + " from the nearest bar picture");
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameImagesAndAnotherSeedOthers() {
        Shape shape = Shape.of(3, 1, BarsClassifier.SIDE, BarsClassifier.SIDE);
        try (Tensor a = Tensor.allocate(shape); Tensor b = Tensor.allocate(shape); Tensor c = Tensor.allocate(shape)) {
            FoolingImageGenerator.fromNoise(5).generate(net, ops, EVERY_CLASS, a);
            FoolingImageGenerator.fromNoise(5).generate(net, ops, EVERY_CLASS, b);
            FoolingImageGenerator.fromNoise(6).generate(net, ops, EVERY_CLASS, c);
            assertArrayEquals(a.toArray(), b.toArray());
            assertFalse(Arrays.equals(a.toArray(), c.toArray()));
        }
    }

    /** When the confidence is out of reach within maxSteps, the image says so and moved exactly that many steps at most. */
    @Test
    void maxStepsBoundsTheSearch() {
        try (Tensor images = Tensor.allocate(Shape.of(1, 1, BarsClassifier.SIDE, BarsClassifier.SIDE))) {
            float[] before = weights(net);
            List<FoolingImageGenerator.Fooling> f = FoolingImageGenerator.fromBlank(0.5f).confidence(0.999999).maxSteps(3).stepSize(0.01)
                    .generate(net, ops, new int[] {1}, images);
            assertFalse(f.get(0).reached());
            assertEquals(3, f.get(0).steps());
            for (float v : images.toArray()) {
                assertTrue(Math.abs(v - 0.5) <= 0.03 + 1e-6, "three steps of 0.01 from 0.5: " + v);
            }
            assertArrayEquals(before, weights(net), "the model is only read");
        }
    }

    @Test
    void badArgumentsAreRejectedNamingWhatIsWrong() {
        assertRejected("confidence must be in (0, 1), got 1.0", () -> FoolingImageGenerator.fromNoise(1).confidence(1));
        assertRejected("maxSteps must be >= 1, got 0", () -> FoolingImageGenerator.fromNoise(1).maxSteps(0));
        assertRejected("stepSize must be a finite number > 0, got 0.0", () -> FoolingImageGenerator.fromNoise(1).stepSize(0));
        assertRejected("a blank image's value must be finite", () -> FoolingImageGenerator.fromBlank(Float.NaN));
        try (Tensor one = Tensor.allocate(Shape.of(1, 1, BarsClassifier.SIDE, BarsClassifier.SIDE));
             Tensor wrong = Tensor.allocate(Shape.of(1, 1, 28, 28))) {
            assertRejected("class 3 is not a class of the model [0, 3)",
                    () -> FoolingImageGenerator.fromNoise(1).generate(net, ops, new int[] {3}, one));
            assertRejected("2 classes asked for but the output holds 1 images",
                    () -> FoolingImageGenerator.fromNoise(1).generate(net, ops, new int[] {0, 1}, one));
            assertRejected("the output images (1, 1, 28, 28) do not fit the model, which takes (N, 1, 8, 8)",
                    () -> FoolingImageGenerator.fromNoise(1).generate(net, ops, new int[] {0}, wrong));
            assertRejected("the blank value 2.0 is outside the pixel range [0.0, 1.0]",
                    () -> FoolingImageGenerator.fromBlank(2).generate(net, ops, new int[] {0}, one));
        }
    }
}
