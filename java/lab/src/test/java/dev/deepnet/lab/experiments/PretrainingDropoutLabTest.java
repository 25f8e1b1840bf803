package dev.deepnet.lab.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Dropout;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The layer-wise pretraining and dropout experiments' claimed outcomes, asserted on seeded runs of their default set-ups. */
class PretrainingDropoutLabTest {

    @Test
    void withoutDropoutTheNetLearnsTheWrongLabelsAndDoesWorseOnTestImages() throws Exception {
        DropoutComparison.Settings s = DropoutComparison.Settings.defaults(DropoutComparison.DEFAULT_PROBABILITY);
        DropoutComparison.Run r;
        try (DropoutComparison.Data data = DropoutComparison.data(DropoutComparison.TRAINING_IMAGES, DropoutComparison.LABEL_NOISE,
                DropoutComparison.LABEL_SEED, DropoutComparison.TEST_IMAGES)) {
            r = DropoutComparison.compare(data, s, 1);
        }
        DropoutComparison.Curves without = r.without();
        DropoutComparison.Curves with = r.with();
        assertTrue(with.finalTestError() < without.finalTestError() - 0.01,
                "dropout lowers the test error: " + with.finalTestError() + " vs " + without.finalTestError());
        assertTrue(without.finalTrainError() < with.finalTrainError(),
                "without dropout the net fits its training images more closely: " + without.finalTrainError() + " vs " + with.finalTrainError());
        assertTrue(without.finalGap() > with.finalGap() + 0.1, "the gap between training and test error is wider without: "
                + without.finalGap() + " vs " + with.finalGap());
        assertTrue(without.wrongLabelsLearned() > 0.5 && with.wrongLabelsLearned() < without.wrongLabelsLearned() / 2,
                "without dropout the net learns most of the wrong labels, with dropout few: " + without.wrongLabelsLearned() + " vs "
                        + with.wrongLabelsLearned());
        double best = Arrays.stream(without.testError()).min().orElseThrow();
        assertTrue(without.finalTestError() > best + 0.01, "without dropout the test error climbs from its low as the net overfits: "
                + best + " -> " + without.finalTestError());
        assertTrue(DropoutComparison.claimHolds(r));
    }

    @Test
    void aFifthOfTheTrainingLabelsAreChangedToAnotherClass() throws Exception {
        try (DropoutComparison.Data noisy = DropoutComparison.data(1000, 0.2, DropoutComparison.LABEL_SEED, 10);
             DropoutComparison.Data clean = DropoutComparison.data(1000, 0, DropoutComparison.LABEL_SEED, 10)) {
            int differing = 0;
            for (int i = 0; i < 1000; i++) {
                differing += noisy.train().label(i) != clean.train().label(i) ? 1 : 0;
            }
            assertEquals(0, clean.changedRows().length);
            assertEquals(differing, noisy.changedRows().length, "every changed label names another class");
            for (int row : noisy.changedRows()) {
                assertNotEquals(clean.train().label(row), noisy.train().label(row));
            }
            assertTrue(differing > 150 && differing < 250, differing + " of 1000 labels changed");
            assertEquals(clean.train().inputs().toArray().length, noisy.train().inputs().toArray().length);
            assertTrue(Arrays.equals(clean.train().inputs().toArray(), noisy.train().inputs().toArray()), "only labels change");
        }
    }

    @Test
    void theDropoutProbabilityIsConfigurableAndOnlyTheNetWithDropoutDrops() {
        assertEquals(0.3, new DropoutComparison(0.3).probability());
        assertEquals(0.5, new DropoutComparison().probability());
        assertThrows(IllegalArgumentException.class, () -> new DropoutComparison(1.0));
        assertThrows(IllegalArgumentException.class, () -> new DropoutComparison(0));
        try (Model with = DropoutComparison.net(16, 0.2, 0.3, 1); Model without = DropoutComparison.net(16, 0, 0, 1)) {
            List<Double> p = with.layers().stream().filter(l -> l instanceof Dropout).map(l -> ((Dropout) l).probability()).toList();
            assertEquals(List.of(0.2, 0.3, 0.3), p);
            assertTrue(without.layers().stream().filter(l -> l instanceof Dropout).allMatch(l -> ((Dropout) l).probability() == 0));
            for (int i = 0; i < with.parameters().size(); i++) {
                assertTrue(Arrays.equals(with.parameters().get(i).value().toArray(), without.parameters().get(i).value().toArray()),
                        "both nets start from the same weights");
            }
        }
    }

    @Test
    void pretrainedStacksFineTuneToALowerTestErrorThanRandomStarts() throws Exception {
        LayerwisePretraining.Settings s = LayerwisePretraining.Settings.defaults();
        Dataset[] data = LayerwisePretraining.data(LayerwisePretraining.UNLABELLED, LayerwisePretraining.LABELLED,
                LayerwisePretraining.TEST);
        double pretrained = 0;
        double random = 0;
        int seeds = 2;
        try (Dataset unlabelled = data[0]; Dataset labelled = data[1]; Dataset test = data[2]) {
            for (long seed = 1; seed <= seeds; seed++) {
                LayerwisePretraining.Run r = LayerwisePretraining.compare(unlabelled, labelled, test, s, seed);
                List<LayerwisePretraining.LayerPretraining> layers = r.stack().layers();
                assertEquals(s.hiddenLayers(), layers.size());
                for (LayerwisePretraining.LayerPretraining l : layers) {
                    assertTrue(l.after() < l.before() / 2, "seed " + seed + ": autoencoder " + l.layer()
                            + " reconstructs its input better after pretraining: " + l.before() + " -> " + l.after());
                    assertEquals(0.0, l.frozenChange(), "seed " + seed + ": the frozen encoders below autoencoder " + l.layer()
                            + " did not move");
                    for (int e = 1; e < l.epochLoss().length; e++) {
                        assertTrue(l.epochLoss()[e] < l.epochLoss()[e - 1], "the reconstruction error falls epoch by epoch");
                    }
                }
                assertNotEquals(r.pretrained().finalTestError(), r.random().finalTestError());
                pretrained += r.pretrained().finalTestError() / seeds;
                random += r.random().finalTestError() / seeds;
            }
        }
        assertTrue(pretrained < random - 0.05, "pretraining gives the lower mean test error: " + pretrained + " vs " + random);
        assertTrue(pretrained < 0.4, "and the pretrained net has learned the classes: " + pretrained);
    }

    @Test
    void fineTuningStartsFromThePretrainedStackAndTheSameOutputLayer() throws Exception {
        // A small stack on a few images, on the plain-Java ops.
        LayerwisePretraining.Settings s = new LayerwisePretraining.Settings(new int[] {784, 16, 8}, 1, 1e-3,
                LayerwisePretraining.FineTuner.SGD, 0.1, 2, 10, 1);
        Dataset[] data = LayerwisePretraining.data(100, 50, 20);
        try (Dataset unlabelled = data[0]; Dataset labelled = data[1]; Dataset test = data[2]; Ops ops = new ReferenceOps()) {
            LayerwisePretraining.Stack stack = LayerwisePretraining.pretrain(ops, unlabelled, s, 7);
            assertEquals(784 * 16, stack.weights().get(0).length);
            assertEquals(16 * 8, stack.weights().get(1).length);
            LayerwisePretraining.Stack again = LayerwisePretraining.pretrain(ops, unlabelled, s, 7);
            for (int k = 0; k < 2; k++) {
                assertTrue(Arrays.equals(stack.weights().get(k), again.weights().get(k)), "pretraining is deterministic");
            }
            Shape sample = unlabelled.inputs().shape().sample();
            try (Model pretrained = LayerwisePretraining.classifier(stack, s, sample, 7);
                 Model random = LayerwisePretraining.classifier(null, s, sample, 7)) {
                List<Dense> a = pretrained.layers().stream().filter(l -> l instanceof Dense).map(l -> (Dense) l).toList();
                List<Dense> b = random.layers().stream().filter(l -> l instanceof Dense).map(l -> (Dense) l).toList();
                assertEquals(3, a.size());
                for (int k = 0; k < 2; k++) {
                    assertTrue(Arrays.equals(stack.weights().get(k), a.get(k).weight().value().toArray()), "hidden layer " + k);
                    assertTrue(Arrays.equals(stack.biases().get(k), a.get(k).bias().value().toArray()), "hidden layer " + k);
                    assertFalse(Arrays.equals(stack.weights().get(k), b.get(k).weight().value().toArray()), "random start " + k);
                }
                assertTrue(Arrays.equals(a.get(2).weight().value().toArray(), b.get(2).weight().value().toArray()),
                        "both starts share the output layer");
            }
            LayerwisePretraining.FineTuning tuned = LayerwisePretraining.fineTune(ops, stack, labelled, test, s, 7);
            assertEquals(2, tuned.testError().length);
            assertTrue(Arrays.stream(tuned.testError()).allMatch(e -> e >= 0 && e <= 1));
        }
    }
}
