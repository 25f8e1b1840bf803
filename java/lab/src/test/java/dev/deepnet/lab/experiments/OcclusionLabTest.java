package dev.deepnet.lab.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.infer.Predictor;
import dev.deepnet.occlusion.BandOcclusion;
import dev.deepnet.occlusion.LaplacianPyramid;
import dev.deepnet.occlusion.SensitivityMap;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The occlusion experiment's outcomes, each checked independently of the code that measured them. */
class OcclusionLabTest {

    static Occlusion.Outcome outcome;
    static Predictor predictor;

    @BeforeAll
    static void measureOnce() {
        outcome = Occlusion.measure();
        predictor = new Predictor(FashionClassifier.get().model(), 1);
    }

    /** Softmax of the shared classifier's scores for one image, through a Predictor (its own plan and ops). */
    static float[] probabilities(float[] image) {
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

    static int argmax(float[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            best = p[i] > p[best] ? i : best;
        }
        return best;
    }

    @Test
    void everyMutilatedImageStillGetsItsLabelWhenEvaluatedAgainIndependently() {
        assertEquals(Occlusion.PER_CLASS * 10, outcome.items().size());
        Set<Integer> seen = new HashSet<>();
        int[] perClass = new int[10];
        for (Occlusion.Item it : outcome.items()) {
            assertTrue(seen.add(it.index()), "test image " + it.index() + " picked once");
            perClass[it.trueClass()]++;
            float[] original = probabilities(Occlusion.image(FashionClassifier.get().test(), it.index()));
            assertEquals(it.trueClass(), argmax(original), "only correctly labelled images are searched: #" + it.index());
            assertTrue(original[it.trueClass()] >= Occlusion.CONFIDENT - 1e-4, "and only confident ones: #" + it.index());
            float[] after = probabilities(it.result().occluded());
            assertEquals(it.trueClass(), argmax(after), "#" + it.index() + " keeps its label");
            assertTrue(after[it.trueClass()] >= Occlusion.MIN_PROBABILITY - 1e-4, "#" + it.index() + " keeps it at p " + after[it.trueClass()]);
        }
        for (int c = 0; c < 10; c++) {
            assertEquals(Occlusion.PER_CLASS, perClass[c], "class " + c);
        }
    }

    @Test
    void theMasksAreWhatWasRemovedAndTheMeansAreTheirs() {
        double[] mean = new double[Occlusion.LEVELS];
        for (Occlusion.Item it : outcome.items()) {
            BandOcclusion.Result r = it.result();
            LaplacianPyramid p = LaplacianPyramid.decompose(r.original(), Occlusion.IMAGE, Occlusion.LEVELS);
            boolean[][] masks = new boolean[Occlusion.LEVELS][];
            for (BandOcclusion.Band b : r.bands()) {
                masks[b.level()] = b.removed();
                float[] band = p.band(b.level());
                double energy = 0;
                int zeroed = 0;
                for (int i = 0; i < band.length; i++) {
                    if (b.removed()[i]) {
                        energy += (double) band[i] * band[i];
                        zeroed++;
                    }
                }
                assertEquals(energy / p.energy(b.level()), b.removedEnergy(), 1e-9);
                assertEquals((double) zeroed / band.length, b.removedArea(), 1e-12);
                mean[b.level()] += b.removedEnergy() / outcome.items().size();
            }
            assertArrayEquals(p.reconstruct(masks), r.occluded(), 1e-6f, "#" + it.index() + " is its pyramid without the masked coefficients");
        }
        assertArrayEquals(mean, outcome.meanEnergy(), 1e-12);
    }

    /** The lecture's claim, as measured: most of every band goes, and the classes differ in what has to stay. */
    @Test
    void muchOfEveryBandGoesAndSomeClassesNeedFarMoreOfThemselvesLeft() {
        for (int k = 0; k < Occlusion.LEVELS; k++) {
            assertTrue(outcome.meanEnergy()[k] >= Occlusion.MUCH, "band " + k + ": " + outcome.meanEnergy()[k]);
        }
        List<Occlusion.ClassSurvival> ranking = outcome.ranking();
        assertEquals(10, ranking.size());
        for (int i = 1; i < ranking.size(); i++) {
            assertTrue(ranking.get(i - 1).meanRemoved() >= ranking.get(i).meanRemoved(), "ranked from most to least mutilatable");
        }
        Occlusion.ClassSurvival most = ranking.get(0);
        Occlusion.ClassSurvival least = ranking.get(9);
        double leastMean = outcome.items().stream().filter(i -> i.trueClass() == least.cls())
                .mapToDouble(i -> i.result().meanRemovedEnergy()).average().orElseThrow();
        assertEquals(leastMean, least.meanRemoved(), 1e-12);
        assertTrue(least.kept() >= Occlusion.SPREAD * most.kept(), FashionClassifier.CLASSES.get(least.cls()) + " keeps " + least.kept()
                + ", " + FashionClassifier.CLASSES.get(most.cls()) + " " + most.kept());
    }

    @Test
    void theWorstPatchOfEachMapCostsWhatAFreshEvaluationSays() {
        assertEquals(10, outcome.maps().size(), "one map per class");
        int localised = 0;
        for (int i = 0; i < outcome.maps().size(); i++) {
            SensitivityMap m = outcome.maps().get(i);
            Occlusion.Item it = outcome.mapped().get(i);
            assertEquals(it.trueClass(), m.trueClass());
            int worst = 0;
            for (int j = 1; j < m.drops().length; j++) {
                worst = m.drops()[j] > m.drops()[worst] ? j : worst;
            }
            float[] hidden = it.result().original().clone();
            int top = m.tops()[worst / m.cols()];
            int left = m.lefts()[worst % m.cols()];
            for (int y = top; y < top + Occlusion.PATCH; y++) {
                for (int x = left; x < left + Occlusion.PATCH; x++) {
                    hidden[y * 28 + x] = Occlusion.GREY;
                }
            }
            float before = probabilities(it.result().original())[it.trueClass()];
            float after = probabilities(hidden)[it.trueClass()];
            assertEquals(before, m.baseline(), 1e-5);
            assertEquals(before - after, m.maxDrop(), 1e-5, FashionClassifier.CLASSES.get(it.trueClass()));
            localised += Occlusion.isLocalised(m) ? 1 : 0;
        }
        assertTrue(localised > 5, "most maps are localised: " + localised + " of 10");
    }

    @Test
    void theReportHasTheFiguresTheTablesAndTheMeanPerBand(@TempDir Path dir) throws Exception {
        Experiment.Result r = new Occlusion().report(outcome, dir);
        assertTrue(r.claimHeld(), r.measured());
        assertEquals(2, r.figures().size());
        for (Path png : r.figures()) {
            BufferedImage img = ImageIO.read(png.toFile());
            assertTrue(Files.isRegularFile(png) && img != null && img.getWidth() > 300 && img.getHeight() > 600, png + " is a real figure");
        }
        String[] names = Occlusion.bandNames();
        for (int k = 0; k < Occlusion.LEVELS; k++) {
            assertTrue(r.measured().contains(names[k] + " " + Occlusion.percent(outcome.meanEnergy()[k])), "the mean of " + names[k]
                    + " is in the closing note: " + r.measured());
        }
        Experiment.Table perBand = r.tables().get(0);
        assertEquals(Occlusion.LEVELS, perBand.rows().size());
        Experiment.Table classes = r.tables().get(1);
        assertEquals(FashionClassifier.CLASSES.get(outcome.ranking().get(0).cls()), classes.rows().get(0).get(0));
        assertTrue(r.measured().contains("Most mutilatable: " + FashionClassifier.CLASSES.get(outcome.ranking().get(0).cls())));
        assertTrue(r.measured().contains("least: " + FashionClassifier.CLASSES.get(outcome.ranking().get(9).cls())));
    }
}
