package dev.deepnet.lab.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.adversarial.FoolingImageGenerator;
import dev.deepnet.adversarial.GradientSignAttack;
import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The adversarial and fooling experiments' outcomes on the lab's Fashion-MNIST convnet, asserted. */
class AdversarialLabTest {

    /** The model's labels and softmax probabilities for {@code images}, from an inference plan: an independent check. */
    static double[][] probabilities(FashionClassifier.Trained t, Ops ops, Tensor images) {
        int n = images.shape().intDim(0);
        try (Plan p = t.model().compileForInference(ops, n)) {
            p.input().copyFrom(images);
            p.forward(false);
            float[] s = p.output().toArray();
            int k = FashionClassifier.CLASSES.size();
            double[][] out = new double[n][k];
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    max = Math.max(max, s[i * k + c]);
                }
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    out[i][c] = Math.exp(s[i * k + c] - max);
                    sum += out[i][c];
                }
                for (int c = 0; c < k; c++) {
                    out[i][c] /= sum;
                }
            }
            return out;
        }
    }

    /**
     * The bar: the iterative attack flips at least 90% of correctly classified test
     * images within L-infinity 0.1, every change within the budget, every new label the model's own.
     */
    @Test
    void theIterativeAttackFlipsAtLeast90PercentOfCorrectlyClassifiedImagesWithinLinf01() {
        FashionClassifier.Trained t = FashionClassifier.get();
        try (Ops ops = Backend.newDefaultOps()) {
            int[] rows = AdversarialExamples.correctlyClassified(t.model(), ops, t.test(), AdversarialExamples.SAMPLE, AdversarialExamples.SEED);
            assertEquals(AdversarialExamples.SAMPLE, rows.length);
            try (Dataset sample = t.test().select(rows); Tensor adv = Tensor.allocate(sample.inputs().shape())) {
                double[][] before = probabilities(t, ops, sample.inputs());
                for (int i = 0; i < sample.size(); i++) {
                    assertEquals(sample.label(i), argmax(before[i]), "sample image " + i + " is labelled correctly");
                }
                GradientSignAttack.Result r = GradientSignAttack.iterative(0.1).batchSize(sample.size())
                        .run(t.model(), ops, sample.inputs(), sample.labels(), adv);
                double[][] p = probabilities(t, ops, adv);
                float[] x = sample.inputs().toArray();
                float[] a = adv.toArray();
                for (int j = 0; j < x.length; j++) {
                    assertTrue(Math.abs((double) a[j] - x[j]) <= 0.1 + 1e-6 && a[j] >= 0 && a[j] <= 1, "pixel " + j);
                }
                int flipped = 0;
                for (int i = 0; i < sample.size(); i++) {
                    GradientSignAttack.Outcome o = r.outcomes().get(i);
                    int label = argmax(p[i]);
                    assertEquals(label, o.newLabel(), "image " + i);
                    assertEquals(p[i][label], o.newConfidence(), 1e-4);
                    flipped += label != sample.label(i) ? 1 : 0;
                }
                assertEquals(flipped, r.successes());
                assertTrue(r.successRate() >= 0.9, "flipped " + r.successRate());
                double fgsm = GradientSignAttack.fgsm(0.1).batchSize(sample.size()).run(t.model(), ops, sample.inputs(), sample.labels(), adv)
                        .successRate();
                assertTrue(fgsm < r.successRate(), "one step does less than ten: FGSM " + fgsm + " vs iterative " + r.successRate());
            }
        }
    }

    private static int argmax(double[] p) {
        int best = 0;
        for (int c = 1; c < p.length; c++) {
            if (p[c] > p[best]) {
                best = c;
            }
        }
        return best;
    }

    /** Fooling images of every class, from noise and from black, reach at least 99% in the model's own eyes. */
    @Test
    void foolingImagesReach99PercentForEveryClass() {
        FashionClassifier.Trained t = FashionClassifier.get();
        try (Ops ops = Backend.newDefaultOps()) {
            List<FoolingImages.Generated> all = FoolingImages.generateAll(t.model(), ops);
            assertEquals(2, all.size());
            for (FoolingImages.Generated g : all) {
                try (Tensor images = Tensor.of(Shape.of(10, 1, 28, 28), g.images())) {
                    double[][] p = probabilities(t, ops, images);
                    for (int c = 0; c < 10; c++) {
                        FoolingImageGenerator.Fooling f = g.results().get(c);
                        assertEquals(c, f.targetClass());
                        assertTrue(f.reached(), g.start() + " " + f);
                        assertTrue(p[c][c] >= 0.99, g.start() + ": the model gives " + FashionClassifier.CLASSES.get(c) + " " + p[c][c]);
                        assertEquals(c, argmax(p[c]));
                    }
                }
                for (float v : g.images()) {
                    assertTrue(v >= 0 && v <= 1, "pixels in [0, 1]: " + v);
                }
            }
        }
    }

    /** Fooling images from noise look nothing like the class: half as far again from every real image as real images are from each other. */
    @Test
    void foolingImagesFromNoiseAreFarFromEveryRealImage() {
        FashionClassifier.Trained t = FashionClassifier.get();
        try (Ops ops = Backend.newDefaultOps()) {
            FoolingImages.Generated noise = FoolingImages.generateAll(t.model(), ops).get(0);
            assertEquals("noise", noise.start());
            float[][][] real = FoolingImages.realByClass(t.test());
            for (int c = 0; c < 10; c++) {
                double typical = FoolingImages.medianNearestNeighbour(real[c]);
                FoolingImages.Match m = FoolingImages.nearestOfAll(noise.images(), c * 784, real);
                assertTrue(m.distance() > 1.5 * typical, FashionClassifier.CLASSES.get(c) + ": nearest real image at " + m.distance()
                        + ", real images typically " + typical + " apart");
            }
        }
    }
}
