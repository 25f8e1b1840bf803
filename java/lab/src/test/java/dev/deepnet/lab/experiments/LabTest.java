package dev.deepnet.lab.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.lab.cli.DeepnetCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Each experiment's claimed outcome, asserted on its seeded run. */
class LabTest {

    @Test
    void shadowsEncodeHeightAsAColumnOfActiveNeurons() {
        float[] x = Shadows.shadows(30, 1);
        for (int s = 0; s < 30; s++) {
            int active = 0;
            for (int i = 0; i < 10; i++) {
                active += x[s * 10 + i] > 0.5 ? 1 : 0;
                assertTrue(x[s * 10 + i] >= 0.05 && x[s * 10 + i] <= 0.95);
            }
            int expected = Shadows.HEIGHTS[Shadows.animal(s)];
            assertTrue(Math.abs(active - expected) <= 1, "shadow " + s + ": " + active + " active neurons");
        }
    }

    @Test
    void theAutoencoderStartsNearOneHalfAndEndsMatchingItsInputs() {
        try (Autoencoder.Trained t = Autoencoder.train(1)) {
            for (float v : t.before()) {
                assertTrue(Math.abs(v - 0.5) < 0.25, "before training outputs are about 0.5: " + v);
            }
            double worst = 0;
            for (int i = 0; i < t.inputs().length; i++) {
                worst = Math.max(worst, Math.abs(t.after()[i] - t.inputs()[i]));
            }
            assertTrue(worst < Autoencoder.MATCH, "after training every output is within 0.2 of its input: " + worst);
            assertTrue(t.firstBelow() > 100 && t.firstBelow() < 1500, "matched after about a thousand iterations: " + t.firstBelow());
            assertTrue(t.curve()[Autoencoder.ITERATIONS - 1] < t.curve()[0] / 10, "the error falls");
        }
    }

    @Test
    void anAddedPositiveDeepInTheNegativeRegionFlattensAndShiftsTheFittedCurve() {
        SigmoidMl.Fit plain = SigmoidMl.fit(SigmoidMl.NEGATIVES, SigmoidMl.POSITIVES);
        double[] withOutlier = Arrays.copyOf(SigmoidMl.POSITIVES, SigmoidMl.POSITIVES.length + 1);
        withOutlier[withOutlier.length - 1] = SigmoidMl.OUTLIER;
        SigmoidMl.Fit shifted = SigmoidMl.fit(SigmoidMl.NEGATIVES, withOutlier);
        double[] logL = plain.logLikelihood();
        assertTrue(logL[logL.length - 1] > logL[0], "gradient ascent raises the likelihood");
        assertTrue(Math.abs(plain.crossing()) < 0.5, "the fit separates the classes near 0: " + plain.crossing());
        assertTrue(shifted.w() < plain.w() && shifted.crossing() < plain.crossing(),
                "w " + plain.w() + " -> " + shifted.w() + ", crossing " + plain.crossing() + " -> " + shifted.crossing());
    }

    @Test
    void bothWaysOfMakingProbabilitiesSumToOneAndRankAlike() {
        float[] z = {0.9f, 0.6f, 0.1f};
        double[] lecture = SoftmaxComparison.normalised(z);
        double[] standard = SoftmaxComparison.softmax(z);
        assertEquals(1.0, Arrays.stream(lecture).sum(), 1e-9);
        assertEquals(1.0, Arrays.stream(standard).sum(), 1e-9);
        assertEquals(0.5625, lecture[0], 1e-6); // 0.9 / 1.6
        assertEquals("cheetah 0.56, zebra 0.38, giraffe 0.06", SoftmaxComparison.topK(lecture));
        assertTrue(Arrays.equals(SoftmaxComparison.ranking(lecture), SoftmaxComparison.ranking(standard)));
    }

    @Test
    void labAllWritesOneSelfContainedReportWithEveryClaimHeld(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cli = DeepnetCommand.commandLine();
        cli.setOut(new PrintWriter(out));
        int exit = cli.execute("lab", "all", "--out", dir.toString());
        assertEquals(0, exit, out.toString());
        String html = Files.readString(dir.resolve("index.html"));
        for (Experiment e : Experiments.all()) {
            assertTrue(html.contains("id=\"" + e.name() + "\""), e.name() + " has a section");
        }
        assertTrue(html.contains("src=\"data:image/png;base64,"), "figures are embedded: no network needed");
        assertTrue(!html.contains("http://") && !html.contains("https://"), "nothing is fetched from the network");
        assertTrue(!html.contains("class=\"failed\""), "every claim held: " + out);
    }

    @Test
    void someHiddenNeuronsRespondMostToMixedPatternsAndOthersToShadows() {
        int mixed = 0;
        int shadowLike = 0;
        for (int seed = 1; seed <= MaxStimulation.SEEDS; seed++) {
            try (Autoencoder.Trained t = Autoencoder.train(seed)) {
                for (float[] x : MaxStimulation.stimuli(t)) {
                    double norm = 0;
                    for (float v : x) {
                        norm += v * v;
                    }
                    assertEquals(1.0, norm, 1e-5, "unit norm");
                    if (MaxStimulation.shape(x).equals("mixed")) {
                        mixed++;
                    } else {
                        shadowLike++;
                    }
                }
            }
        }
        assertTrue(mixed > 0 && shadowLike > 0, "mixed " + mixed + ", shadow-like " + shadowLike);
        assertEquals("medium", MaxStimulation.shape(new float[] {0.5f, 0.5f, 0.5f, 0.4f, 0.4f, 0.2f, 0, 0, 0, 0}));
    }

    @Test
    void aBackwardPassRunsFourMoreStepsPerDiamondWhilePathsDouble() {
        double[][] m = LinearDepth.measure();
        for (int d = 2; d <= LinearDepth.MAX_DEPTH; d++) {
            assertEquals(4, m[0][d - 1] - m[0][d - 2], "depth " + d);
        }
    }

    @Test
    void aDeepNarrowNetFirstSaysNoToEverythingThenFallsOffACliff() throws Exception {
        DeepNarrow.Run r = DeepNarrow.train(1, null, null);
        assertTrue(r.allNo() >= 0 && r.allNo() < 200, "every output says no early: " + r.allNo());
        assertTrue(r.plateauEnd() - r.plateauStart() > 1000, "a long plateau: " + r.plateauStart() + " to " + r.plateauEnd());
        assertTrue(r.cliff() > r.plateauEnd(), "then the cliff: " + r.cliff());
        assertTrue(r.loss()[r.cliff() + 1000] < 0.01, "and the error stays down");
    }

    @Test
    void anUnknownExperimentIsNamed() {
        StringWriter err = new StringWriter();
        CommandLine cli = DeepnetCommand.commandLine();
        cli.setErr(new PrintWriter(err));
        assertEquals(2, cli.execute("lab", "telepathy"));
        assertTrue(err.toString().contains("unknown experiment 'telepathy'"), err.toString());
    }
}
