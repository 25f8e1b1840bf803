package dev.deepnet.occlusion;

import static dev.deepnet.occlusion.LaplacianPyramidTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.infer.Classifier;
import dev.deepnet.infer.Predictor;
import dev.deepnet.infer.SoftmaxOracle;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BandOcclusionTest {

    /** The label a Predictor (its own plan, not the search's classifier) gives {@code image}. */
    static int independentLabel(Predictor predictor, float[] image) {
        float[] s = predictor.predict(image);
        int best = 0;
        for (int i = 1; i < s.length; i++) {
            if (s[i] > s[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The masks say what was removed: the fractions are theirs, and the image is the pyramid collapsed without them. */
    static void assertConsistent(BandOcclusion.Result r) {
        LaplacianPyramid p = r.pyramid();
        boolean[][] masks = new boolean[p.levels()][];
        for (BandOcclusion.Band b : r.bands()) {
            int k = b.level();
            assertEquals(p.height(k), b.height());
            assertEquals(p.width(k), b.width());
            masks[k] = b.removed();
            float[] band = p.band(k);
            int plane = b.height() * b.width();
            int zeroed = 0;
            double energy = 0;
            for (int i = 0; i < band.length; i++) {
                if (b.removed()[i % plane]) {
                    energy += (double) band[i] * band[i];
                    zeroed += i < plane ? 1 : 0;
                }
            }
            assertEquals((double) zeroed / plane, b.removedArea(), 1e-12, "band " + k + " area");
            assertEquals(energy / p.energy(k), b.removedEnergy(), 1e-9, "band " + k + " energy");
        }
        float[] expected = p.reconstruct(masks);
        if (r.rectangles() == 0) {
            assertArrayEquals(r.original(), r.occluded(), "nothing kept: the image itself");
        } else {
            assertArrayEquals(expected, r.occluded(), "the occluded image is the pyramid without the masked coefficients");
        }
    }

    @Test
    void onAHandBuiltModelMuchIsRemovedAndTheLabelIsKeptOnAnIndependentCheck() {
        try (Model net = HalvesModel.handBuilt(); Ops ops = new ReferenceOps(); Classifier classifier = new Classifier(net, ops, 64);
             Predictor predictor = new Predictor(net, ReferenceOps::new, 1)) {
            for (long seed = 1; seed <= 3; seed++) {
                float[] image = HalvesModel.brightTop(seed);
                assertEquals(0, independentLabel(predictor, image), "a bright top is class 0");
                BandOcclusion.Result r = BandOcclusion.builder(classifier::probabilities, HalvesModel.IMAGE).levels(3).seed(seed).build().search(image);
                assertEquals(0, r.label());
                assertEquals(0, independentLabel(predictor, r.occluded()), "the label is kept on the final image, seed " + seed);
                assertConsistent(r);
                assertTrue(r.rectangles() > 0 && r.meanRemovedEnergy() > 0.3, "the bottom half does not matter, so much can go: "
                        + Arrays.toString(r.removedEnergy()));
                assertTrue(r.relativeChange() > 0.1, "the image really changed: " + r.relativeChange());
                assertEquals(r.finalProbability(), classifier.probabilities(r.occluded(), 1)[0], 1e-6);
                assertTrue(r.evaluations() >= r.rounds() + 2, "every round evaluates at least once: " + r.evaluations());
            }
        }
    }

    @Test
    void onARandomConvnetOverColourImagesTheLabelIsKeptOnAnIndependentCheck() {
        Shape shape = Shape.of(3, 12, 12);
        try (Model net = HalvesModel.randomConvnet(7); Ops ops = new ReferenceOps(); Classifier classifier = new Classifier(net, ops, 32);
             Predictor predictor = new Predictor(net, ReferenceOps::new, 1)) {
            for (long seed = 1; seed <= 4; seed++) {
                float[] image = HalvesModel.random(432, 100 + seed);
                BandOcclusion.Result r = BandOcclusion.builder(classifier::probabilities, shape).candidates(16).maxRounds(10).seed(seed).build()
                        .search(image);
                assertEquals(independentLabel(predictor, image), r.label(), "the label preserved is the one the net gave");
                assertEquals(r.label(), independentLabel(predictor, r.occluded()), "kept, seed " + seed);
                assertConsistent(r);
                assertEquals(4, r.bands().size()); // 12, 6, 3, 2
            }
        }
    }

    @Test
    void aProbabilityFloorHoldsOnTheFinalImageAndAnImageBelowItIsLeftAlone() {
        try (Model net = HalvesModel.handBuilt(); Ops ops = new ReferenceOps(); Classifier classifier = new Classifier(net, ops, 64);
             Predictor predictor = new Predictor(net, ReferenceOps::new, 1)) {
            float[] image = HalvesModel.brightTop(3);
            float before = SoftmaxOracle.of(predictor.predict(image))[0];
            assertTrue(before > 0.4 && before < 0.45, "a bright top is class 0 at about 0.43: " + before);
            BandOcclusion.Result floored = BandOcclusion.builder(classifier::probabilities, HalvesModel.IMAGE).minProbability(0.4).build().search(image);
            BandOcclusion.Result plain = BandOcclusion.builder(classifier::probabilities, HalvesModel.IMAGE).build().search(image);
            float after = SoftmaxOracle.of(predictor.predict(floored.occluded()))[0];
            assertTrue(after >= 0.4f && floored.finalProbability() >= 0.4f, "the floor holds on an independent check: " + after);
            assertTrue(plain.finalProbability() < 0.4f, "without it the search goes below: " + plain.finalProbability());
            assertTrue(floored.rectangles() > 0, "the floor still leaves room to remove something");
            assertConsistent(floored);

            BandOcclusion.Result untouched = BandOcclusion.builder(classifier::probabilities, HalvesModel.IMAGE).minProbability(0.9).build().search(image);
            assertEquals(0, untouched.rounds(), "below the floor from the start: no search");
            assertEquals(0, untouched.rectangles());
            assertArrayEquals(image, untouched.occluded());
            assertEquals(before, untouched.finalProbability(), 1e-6);
        }
    }

    @Test
    void theSameSeedGivesTheSameMasksAndAnotherSeedOtherOnes() {
        try (Model net = HalvesModel.handBuilt(); Ops ops = new ReferenceOps(); Classifier classifier = new Classifier(net, ops, 64)) {
            float[] image = HalvesModel.brightTop(9);
            BandOcclusion.Result a = BandOcclusion.builder(classifier::probabilities, HalvesModel.IMAGE).seed(5).build().search(image);
            BandOcclusion.Result b = BandOcclusion.builder(classifier::probabilities, HalvesModel.IMAGE).seed(5).build().search(image);
            BandOcclusion.Result c = BandOcclusion.builder(classifier::probabilities, HalvesModel.IMAGE).seed(6).build().search(image);
            assertArrayEquals(a.occluded(), b.occluded());
            for (int k = 0; k < a.bands().size(); k++) {
                assertArrayEquals(a.bands().get(k).removed(), b.bands().get(k).removed());
            }
            assertTrue(!Arrays.equals(a.occluded(), c.occluded()), "the seed orders the rectangles tried");
        }
    }

    @Test
    void aClassifierThatNoticesEveryChangeLetsNothingGo() {
        float[] image = HalvesModel.brightTop(2);
        // Class 0 only for the image itself (to within rounding); anything knocked out is class 1.
        ImageClassifier pedant = (images, count) -> {
            float[] p = new float[2 * count];
            for (int i = 0; i < count; i++) {
                double d = 0;
                for (int j = 0; j < 144; j++) {
                    d = Math.max(d, Math.abs(images[i * 144 + j] - image[j]));
                }
                p[2 * i] = d < 1e-4 ? 0.9f : 0.1f;
                p[2 * i + 1] = 1 - p[2 * i];
            }
            return p;
        };
        BandOcclusion.Result r = BandOcclusion.builder(pedant, Shape.of(12, 12)).build().search(image);
        assertEquals(0, r.label());
        assertEquals(0, r.rectangles());
        assertArrayEquals(image, r.occluded());
        for (double f : r.removedArea()) {
            assertEquals(0, f);
        }
        assertEquals(3, r.rounds(), "stops after 'patience' rounds without progress");
        assertConsistent(r);
    }

    @Test
    void whenTheReCheckDisagreesRoundsAreUndoneUntilItAgrees() {
        float[] image = HalvesModel.brightTop(4);
        double total = 0;
        for (float v : image) {
            total += v;
        }
        double original = total;
        // In batches anything goes; alone, an image keeps class 0 only if it kept 80% of its brightness.
        ImageClassifier fickle = (images, count) -> {
            float[] p = new float[2 * count];
            for (int i = 0; i < count; i++) {
                double sum = 0;
                for (int j = 0; j < 144; j++) {
                    sum += images[i * 144 + j];
                }
                boolean keeps = count > 1 || sum >= 0.8 * original;
                p[2 * i] = keeps ? 0.7f : 0.3f;
                p[2 * i + 1] = 1 - p[2 * i];
            }
            return p;
        };
        BandOcclusion.Result r = BandOcclusion.builder(fickle, Shape.of(12, 12)).maxRounds(6).build().search(image);
        assertTrue(r.undone() > 0, "the batched search went too far and was undone: " + r.undone());
        double kept = 0;
        for (float v : r.occluded()) {
            kept += v;
        }
        assertTrue(kept >= 0.8 * original, "what is returned passes the single re-check: " + kept + " of " + original);
        assertEquals(0.7f, r.finalProbability());
        assertConsistent(r);
    }

    @Test
    void badSettingsAndImagesAreNamed() {
        ImageClassifier any = (images, count) -> new float[2 * count];
        Shape s = Shape.of(28, 28);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(null, s)), "classifier is null");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(any, Shape.of(5))), "(C, H, W) or (H, W)");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(any, s).levels(7)),
                "levels must be between 1 and 6", "got 7");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(any, s).candidates(0)), "candidates");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(any, s).maxRounds(-1)), "maxRounds");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(any, s).patience(0)), "patience");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(any, s).maxSide(1.5)), "maxSide", "1.5");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(any, s).minProbability(1)),
                "minProbability must be in [0, 1), got 1.0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(any, s).build().search(new float[10])),
                "(28, 28) has 784 floats, got 10");
        ImageClassifier empty = (images, count) -> new float[0];
        assertMessage(assertThrows(IllegalArgumentException.class, () -> BandOcclusion.builder(empty, s).build().search(new float[784])),
                "returned 0 probabilities for 1 images");
        float[] digit = new float[784];
        digit[300] = 1;
        ImageClassifier inconsistent = (images, count) -> new float[count == 1 ? 2 : 3 * count];
        assertMessage(assertThrows(IllegalStateException.class, () -> BandOcclusion.builder(inconsistent, s).build().search(digit)),
                "2 classes for one image but 3 for a batch");
    }
}
