package dev.deepnet.lab.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The frozen-autoencoder and knockout experiments' claimed outcomes, and the knockout surgery itself. */
class FrozenAutoencoderKnockoutTest {

    @Test
    void aNewLayerOnTheFrozenCodeStartsAtOneThirdMatchesTheClassesAndBeatsTrainingFromScratch() {
        FrozenAutoencoder.Grid g = FrozenAutoencoder.grid();
        int bf = g.bestRate(0);
        int bs = g.bestRate(1);
        for (int s = 0; s < FrozenAutoencoder.SEEDS; s++) {
            FrozenAutoencoder.Run f = g.runs()[0][bf][s];
            for (float p : f.before()) {
                assertEquals(1.0 / 3, p, 1e-6, "seed " + (s + 1) + ": every class output starts at 1/3");
            }
            assertTrue(f.converged() && FrozenAutoencoder.classesMatch(f.after()), "seed " + (s + 1) + ": the classes match after");
            assertTrue(f.encoderUnchanged(), "seed " + (s + 1) + ": the frozen encoder did not move");
        }
        assertTrue(g.median(0, bf) < g.median(1, bs), "frozen " + g.median(0, bf) + " vs scratch " + g.median(1, bs) + " iterations");
    }

    @Test
    void theWholeNetTrainsItsHiddenLayerWhenNotFrozen() {
        // the scratch comparison must really train the hidden layer, or it would be the frozen case in disguise
        FrozenAutoencoder.Run r = FrozenAutoencoder.train(null, 1, 3);
        assertTrue(r.converged());
        assertTrue(r.encoderUnchanged(), "no encoder to compare: reported unchanged by definition");
        try (Autoencoder.Trained ae = Autoencoder.train(1)) {
            float[] before = ae.encoder().weight().value().toArray();
            FrozenAutoencoder.train(ae.encoder(), 1, 3);
            assertArrayEquals(before, ae.encoder().weight().value().toArray(), "the autoencoder itself is not modified");
        }
    }

    @Test
    void knockingOutNeuronsWhoseOutgoingWeightsAreZeroLeavesTheOutputUnchanged() {
        Knockout.Weights net = Knockout.train(Knockout.widths(4), null, 5, 1, 1).end();
        SplittableRandom draws = new SplittableRandom(11);
        int[] killed = new int[net.layers() - 1];
        for (int l = 0; l < killed.length; l++) {
            killed[l] = draws.nextInt(net.widths()[l + 1]);
            int out = net.widths()[l + 2];
            int in = net.widths()[l + 1];
            for (int o = 0; o < out; o++) {
                net.weights().get(l + 1)[o * in + killed[l]] = 0; // the neuron's vote no longer counts
            }
        }
        float[] x = Arrays.copyOfRange(Shadows.shadows(3, 2), 20, 30);
        float[] before = Knockout.activations(net, x).get(net.layers());
        Knockout.Weights pruned = Knockout.knockOut(net, new SplittableRandom(11));
        assertArrayEquals(new int[] {10, 3, 3, 3, 3, 3, 3}, pruned.widths());
        for (int l = 0; l < pruned.layers(); l++) {
            assertEquals(pruned.widths()[l] * pruned.widths()[l + 1], pruned.weights().get(l).length, "layer " + l);
        }
        // had the wrong row or column gone, a neuron that still votes would be missing and the output would change
        assertArrayEquals(before, Knockout.activations(pruned, x).get(pruned.layers()), 1e-6f);
    }

    @Test
    void prunedNetsRetrainFastWhileNarrowNetsFromScratchRarelyLearnWithinTheSameEffort() {
        List<Knockout.SeedRun> runs = Knockout.runAll(Knockout.SEEDS);
        long prunedOk = runs.stream().filter(Knockout.SeedRun::prunedSucceeded).count();
        long scratchInBudget = runs.stream().filter(Knockout.SeedRun::scratchWithinPrunedBudget).count();
        assertTrue(prunedOk >= 0.9 * Knockout.SEEDS, "pruning down to 2 per layer works in " + prunedOk + " of " + Knockout.SEEDS);
        assertTrue(scratchInBudget * 4 <= prunedOk, "narrow from scratch within the same effort: " + scratchInBudget);
        double wide = Knockout.median(runs.stream().mapToInt(r -> r.wide().iterations()));
        double retrain = Knockout.median(runs.stream().flatMap(r -> r.retrains().stream()).filter(Knockout.Training::succeeded)
                .mapToInt(Knockout.Training::iterations));
        assertTrue(retrain < wide / 5, "a retrain (" + retrain + ") is far quicker than learning wide (" + wide + ")");
        assertTrue(runs.stream().anyMatch(r -> !r.scratch().succeeded()), "some narrow nets from scratch stay stuck");
    }
}
