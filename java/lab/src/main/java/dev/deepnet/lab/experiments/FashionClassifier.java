package dev.deepnet.lab.experiments;

import dev.deepnet.data.Dataset;
import dev.deepnet.data.FashionMnist;
import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.train.Adam;
import dev.deepnet.train.Evaluation;
import dev.deepnet.train.SoftmaxCrossEntropy;
import dev.deepnet.train.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The convnet the lab's "do nets see like we see?" experiments probe: a small LeNet-style net
 * trained by the lab itself on part of Fashion-MNIST, seeded, so the experiments run on a fresh
 * clone. Trained once per JVM and shared (read-only) by every experiment that asks.
 *
 * <pre>
 * (1, 28, 28) conv 5x5 pad 2 x16, relu, max 2/2 -> (16, 14, 14)
 *             conv 5x5 pad 2 x32, relu, max 2/2 -> (32, 7, 7)
 *             flatten, dense 10 (raw scores; softmax gives probabilities)
 * </pre>
 */
public final class FashionClassifier {

    /** The classifier's class names: Fashion-MNIST's. */
    public static final List<String> CLASSES = FashionMnist.CLASSES;
    static final int TRAINING_SAMPLES = 20_000;
    static final int EPOCHS = 2;
    static final long SEED = 1;

    /** A trained classifier and its test set (the 10,000 Fashion-MNIST test images, pixels in [0, 1]). */
    public record Trained(Model model, Dataset test, double testAccuracy, double trainingSeconds) {}

    private static Trained trained;

    private FashionClassifier() {}

    /** The architecture, untrained. */
    public static Model create(long seed) {
        return Model.sequential(Shape.of(1, 28, 28), seed,
                new Conv2d(1, 16, 5, 1, 2).named("conv1"), new Relu().named("relu1"), new MaxPool2d(2, 2).named("pool1"),
                new Conv2d(16, 32, 5, 1, 2).named("conv2"), new Relu().named("relu2"), new MaxPool2d(2, 2).named("pool2"),
                new Flatten().named("flatten"), new Dense(32 * 7 * 7, 10).named("scores"));
    }

    /** The test set and the training set, or an error naming the package to install. */
    static Dataset[] load() throws IOException {
        Dataset all = FashionMnist.train(); // a missing install names the package to install
        Dataset train;
        try {
            train = all.head(TRAINING_SAMPLES);
        } finally {
            all.close();
        }
        try {
            return new Dataset[] {train, FashionMnist.test()};
        } catch (IOException | RuntimeException e) {
            train.close();
            throw e;
        }
    }

    /**
     * The shared trained classifier: trains it on first use (about 15 s on 2 cores), then returns
     * the same one. Callers must not modify or close it.
     */
    public static synchronized Trained get() {
        if (trained == null) {
            try {
                trained = train();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return trained;
    }

    private static Trained train() throws IOException {
        Dataset[] sets = load();
        Model net = create(SEED);
        try (Dataset train = sets[0]; Ops ops = Backend.newDefaultOps()) {
            long t0 = System.nanoTime();
            Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Adam(0.002)).batchSize(64).epochs(EPOCHS).seed(SEED).build().fit(train);
            double seconds = (System.nanoTime() - t0) / 1e9;
            try (Evaluation e = new Evaluation(net, ops, sets[1], new SoftmaxCrossEntropy(), 500)) {
                return new Trained(net, sets[1], e.run().accuracy(), seconds);
            }
        } catch (RuntimeException | Error e) {
            net.close();
            sets[1].close();
            throw e;
        }
    }

    /** Saves the shared classifier (with its class names) so the command-line tools can load it. */
    public static Path save(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        ModelFile.save(get().model(), file, CLASSES, Map.of("trained_on", "fashion-mnist first " + TRAINING_SAMPLES + ", " + EPOCHS
                + " epochs, seed " + SEED, "test_accuracy", Double.toString(get().testAccuracy())));
        return file;
    }
}
