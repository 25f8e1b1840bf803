package dev.deepnet.adversarial;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.train.Adam;
import dev.deepnet.train.Evaluation;
import dev.deepnet.train.SoftmaxCrossEntropy;
import dev.deepnet.train.Trainer;
import java.util.SplittableRandom;

/**
 * A small convnet trained in a second on 8x8 grey pictures of three classes — a horizontal bar,
 * a vertical bar, a diagonal — on faint noise: a classifier that labels well, to attack.
 */
final class BarsClassifier {
    static final int SIDE = 8;
    static final int CLASSES = 3;

    private BarsClassifier() {}

    /** {@code n} pictures with pixels in [0, 1], classes in turn, seeded. */
    static Dataset pictures(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * SIDE * SIDE];
        int[] labels = new int[n];
        for (int s = 0; s < n; s++) {
            int c = s % CLASSES;
            labels[s] = c;
            int at = 1 + r.nextInt(SIDE - 2);
            for (int i = 0; i < SIDE; i++) {
                for (int j = 0; j < SIDE; j++) {
                    boolean on = switch (c) {
                        case 0 -> i == at;
                        case 1 -> j == at;
                        default -> i == j;
                    };
                    x[s * SIDE * SIDE + i * SIDE + j] = (float) (on ? 0.7 + 0.3 * r.nextDouble() : 0.3 * r.nextDouble());
                }
            }
        }
        return Dataset.classification(x, Shape.of(1, SIDE, SIDE), labels, CLASSES);
    }

    static Model create(long seed) {
        return Model.sequential(Shape.of(1, SIDE, SIDE), seed, new Conv2d(1, 4, 3, 1, 1), new Relu(), new MaxPool2d(2, 2), new Flatten(),
                new Dense(4 * 4 * 4, CLASSES));
    }

    /** A trained classifier; throws if it did not learn (the attack tests need one that labels well). */
    static Model trained(Ops ops) {
        Model net = create(3);
        try (Dataset train = pictures(600, 1); Dataset test = pictures(150, 2)) {
            Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Adam(0.01)).batchSize(30).epochs(8).seed(1).build().fit(train);
            try (Evaluation e = new Evaluation(net, ops, test, new SoftmaxCrossEntropy(), 50)) {
                double accuracy = e.run().accuracy();
                if (accuracy < 0.95) {
                    throw new AssertionError("the bars classifier should label well, got test accuracy " + accuracy);
                }
            }
            return net;
        } catch (RuntimeException | Error e) {
            net.close();
            throw e;
        }
    }
}
