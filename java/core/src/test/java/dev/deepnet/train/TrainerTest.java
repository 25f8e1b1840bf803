package dev.deepnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Parameter;
import dev.deepnet.nn.Relu;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrainerTest {

    /**
     * 8x8 noisy images of a horizontal bar (class 0), a vertical bar (class 1) or a diagonal
     * (class 2), each at a random position.
     */
    static Dataset bars(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * 64];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int cls = r.nextInt(3);
            labels[i] = cls;
            int at = r.nextInt(1, 7);
            for (int p = 0; p < 64; p++) {
                x[i * 64 + p] = (float) r.nextDouble(0, 0.3);
            }
            for (int k = 1; k < 7; k++) {
                int row = switch (cls) {
                    case 0 -> at;
                    case 1 -> k;
                    default -> k;
                };
                int col = switch (cls) {
                    case 0 -> k;
                    case 1 -> at;
                    default -> k;
                };
                x[i * 64 + row * 8 + col] = (float) r.nextDouble(0.7, 1.0);
            }
        }
        return Dataset.classification(x, Shape.of(1, 8, 8), labels, 3);
    }

    static Model convnet(long seed) {
        return Model.sequential(Shape.of(1, 8, 8), seed, new Conv2d(1, 6, 3, 1, 1), new Relu(), new MaxPool2d(2, 2),
                new Flatten(), new Dense(6 * 4 * 4, 3));
    }

    @Test
    void aSmallConvnetLearnsASyntheticImagePattern() {
        List<Trainer.StepEvent> steps = new ArrayList<>();
        try (Ops ops = new OneDnnOps(); Model net = convnet(1); Dataset train = bars(600, 1); Dataset test = bars(300, 2)) {
            Trainer.History h = Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Adam(0.01))
                    .batchSize(20).epochs(6).seed(3).validation(test)
                    .listener(new Trainer.Listener() {
                        @Override
                        public void onStep(Trainer.StepEvent step) {
                            steps.add(step);
                        }
                    })
                    .build().fit(train);
            assertEquals(6, h.epochs().size());
            assertEquals(6 * 30, steps.size(), "one event per step");
            assertTrue(h.last().validationAccuracy() > 0.95, "held-out accuracy " + h.last().validationAccuracy());
            assertTrue(h.last().trainLoss() < h.epochs().get(0).trainLoss(), "the training loss falls");
            assertTrue(h.last().samplesPerSecond() > 0);
            try (Evaluation evaluation = new Evaluation(net, ops, test, new SoftmaxCrossEntropy(), 32)) { // 300 = 9 x 32 + 12
                Evaluation.Result r = evaluation.run();
                long total = 0;
                long diagonal = 0;
                for (int c = 0; c < 3; c++) {
                    for (int p = 0; p < 3; p++) {
                        total += r.confusion()[c][p];
                    }
                    diagonal += r.confusion()[c][c];
                }
                assertEquals(300, total, "every test sample counted once");
                assertEquals(r.accuracy(), diagonal / 300.0, 1e-12, "accuracy is the confusion matrix's diagonal");
                assertEquals(h.last().validationAccuracy(), r.accuracy(), 1e-12, "the same figure at another batch size");
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameWeightsBitForBit() {
        float[][] weights = new float[2][];
        for (int run = 0; run < 2; run++) {
            try (Ops ops = new OneDnnOps(); Model net = convnet(5); Dataset train = bars(200, 4)) {
                Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Sgd(LearningRateSchedule.constant(0.05), 0.9, 1e-4))
                        .batchSize(16).epochs(2).seed(9).build().fit(train);
                List<Float> all = new ArrayList<>();
                for (Parameter p : net.parameters()) {
                    for (float v : p.value().toArray()) {
                        all.add(v);
                    }
                }
                weights[run] = new float[all.size()];
                for (int i = 0; i < all.size(); i++) {
                    weights[run][i] = all.get(i);
                }
            }
        }
        assertArrayEquals(weights[0], weights[1]);
    }

    @Test
    void earlyStoppingEndsTrainingWhenValidationStopsImproving() {
        // Labels with no relation to the inputs: the validation loss cannot keep improving.
        SplittableRandom r = new SplittableRandom(1);
        float[] x = new float[200 * 4];
        int[] y = new int[200];
        for (int i = 0; i < 200; i++) {
            for (int j = 0; j < 4; j++) {
                x[i * 4 + j] = (float) r.nextDouble();
            }
            y[i] = r.nextInt(2);
        }
        try (Ops ops = new OneDnnOps(); Model net = Model.sequential(Shape.of(4), 1, new Dense(4, 16, Activation.TANH), new Dense(16, 2));
             Dataset train = Dataset.classification(java.util.Arrays.copyOf(x, 400), Shape.of(4), java.util.Arrays.copyOf(y, 100), 2);
             Dataset validation = Dataset.classification(java.util.Arrays.copyOfRange(x, 400, 800), Shape.of(4),
                     java.util.Arrays.copyOfRange(y, 100, 200), 2)) {
            Trainer.History h = Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Adam(0.05))
                    .batchSize(10).epochs(200).seed(1).validation(validation).earlyStopping(3, 0).build().fit(train);
            assertTrue(h.stoppedEarly(), "should stop early");
            assertTrue(h.epochs().size() < 200, "epochs run: " + h.epochs().size());
        }
    }

    @Test
    void badSettingsAreRejected() {
        try (Ops ops = new OneDnnOps(); Model net = convnet(1); Dataset train = bars(10, 1)) {
            Trainer t = Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Adam(0.01)).batchSize(20).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.fit(train));
            assertTrue(e.getMessage().contains("larger than the training set"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Adam(0.01))
                    .batchSize(5).earlyStopping(2, 0).build().fit(train));
        }
    }
}
