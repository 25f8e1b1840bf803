package dev.deepnet.lab.cli;

import dev.deepnet.data.Dataset;
import dev.deepnet.data.FashionMnist;
import dev.deepnet.data.ImageFolder;
import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.io.ModelFile;
import dev.deepnet.lab.report.Charts;
import dev.deepnet.lab.train.TrainingProgress;
import dev.deepnet.models.AlexNet;
import dev.deepnet.models.LeNet;
import dev.deepnet.models.ResNet;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.train.Adam;
import dev.deepnet.train.Evaluation;
import dev.deepnet.train.SoftmaxCrossEntropy;
import dev.deepnet.tensor.Shape;
import dev.deepnet.train.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code deepnet train --model lenet --data fashion-mnist --epochs 5}: trains with a progress bar,
 * evaluates top-1 and top-5 on the test set each epoch, saves a checkpoint per epoch, and draws
 * the training curves and the confusion matrix.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a convnet on Fashion-MNIST or an image folder, with checkpoints and charts.")
public final class TrainCommand implements Callable<Integer> {


    @Option(names = "--model", description = "lenet or resnet (28x28 grey; resnet: a small residual net with batch norm), or alexnet (227x227 RGB, in one group, not the paper's two)"
            + " (default: ${DEFAULT-VALUE})",
            defaultValue = "lenet")
    String model;

    @Option(names = "--data", description = "fashion-mnist, or a folder with one sub-folder of images per class"
            + " (default: ${DEFAULT-VALUE})", defaultValue = "fashion-mnist")
    String data;

    @Option(names = "--epochs", defaultValue = "5", description = "default: ${DEFAULT-VALUE}")
    int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "default: ${DEFAULT-VALUE}")
    int batch;

    @Option(names = "--lr", defaultValue = "0.001", description = "Adam's learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--seed", defaultValue = "1", description = "initialisation, shuffling and dropout (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--limit", description = "use only the first N training samples")
    Integer limit;

    @Option(names = "--validation-split", defaultValue = "0.1",
            description = "for an image folder: the fraction held out for testing (default: ${DEFAULT-VALUE})")
    double validationSplit;

    @Option(names = "--out", defaultValue = "out/train", description = "checkpoints and charts (default: ${DEFAULT-VALUE})")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter o = spec.commandLine().getOut();
        Options.oneOf("--model", model, "lenet", "resnet", "alexnet");
        Options.atLeast("--epochs", epochs, 1);
        Options.atLeast("--batch", batch, 1);
        Options.positive("--lr", lr);
        if (limit != null) {
            Options.atLeast("--limit", limit, 1);
        }
        Options.within("--validation-split", validationSplit, Options.Interval.open(0, 1));
        Options.outputFolder("--out", out);
        Loaded sets = load();
        try (Dataset train = sets.train(); Dataset test = sets.test();
             Model net = switch (model) {
                 case "lenet" -> LeNet.create(sets.classes().size(), seed);
                 case "resnet" -> ResNet.create(sets.classes().size(), seed);
                 default -> AlexNet.create(sets.classes().size(), seed);
             };
             Ops ops = Backend.newDefaultOps()) {
            Shape sample = train.inputs().shape().sample();
            if (!net.sampleShape().equals(sample)) {
                throw new UsageException("--model " + model + " takes samples " + net.sampleShape()
                        + " but the data's are " + sample + "; use lenet with fashion-mnist, alexnet with image folders");
            }
            if (batch > train.size()) {
                throw new UsageException("--batch " + batch + " is more than the " + train.size() + " training samples; give at most "
                        + train.size());
            }
            o.printf(Locale.ROOT, "training %s on %s: %d training and %d test samples, %d classes; backend %s%n", model, data,
                    train.size(), test.size(), sets.classes().size(), ops.name());
            o.print(net.summary());
            o.flush();
            Trainer.History h = Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Adam(lr))
                    .batchSize(batch).epochs(epochs).seed(seed).validation(test)
                    .listener(new TrainingProgress(System.err, TrainingProgress.isTerminal()))
                    .listener(new Trainer.Listener() {
                        @Override
                        public void onEpoch(Trainer.EpochResult e) {
                            try {
                                ModelFile.save(net, out.resolve(model + "-epoch" + e.epoch() + ".safetensors"), sets.classes(),
                                        sets.preprocessing(), Map.of("epoch", Integer.toString(e.epoch()), "test_accuracy", Double.toString(e.validationAccuracy())));
                            } catch (IOException ex) {
                                throw new UncheckedIOException(ex);
                            }
                        }
                    })
                    .build().fit(train);
            Path finalModel = out.resolve(model + ".safetensors");
            ModelFile.save(net, finalModel, sets.classes(), sets.preprocessing(), Map.of("epochs", Integer.toString(h.epochs().size())));
            charts(h, net, ops, test, sets.classes());
            Trainer.EpochResult last = h.last();
            double epochSeconds = h.epochs().stream().mapToDouble(Trainer.EpochResult::seconds).average().orElse(0);
            double imagesPerSecond = h.epochs().stream().mapToDouble(Trainer.EpochResult::samplesPerSecond).average().orElse(0);
            o.printf(Locale.ROOT, "test accuracy %.4f (top-5 error %.4f) after %d epochs; %.1f s per epoch, %.0f images/s%n",
                    last.validationAccuracy(), last.validationTop5Error(), h.epochs().size(), epochSeconds, imagesPerSecond);
            o.printf("model: %s; charts: %s, %s%n", finalModel, out.resolve("training-curve.png"), out.resolve("confusion-matrix.png"));
        }
        return 0;
    }

    /** The data, its classes, and how an image becomes one of its samples (saved with the model for predict and services). */
    private record Loaded(Dataset train, Dataset test, List<String> classes, ImagePreprocessing preprocessing) {}

    private Loaded load() throws IOException {
        if (data.equals("fashion-mnist")) {
            if (!FashionMnist.installed()) {
                throw new UsageException(FashionMnist.notInstalledMessage());
            }
            Dataset train = FashionMnist.train();
            if (limit != null && limit < train.size()) {
                Dataset all = train;
                train = all.head(limit);
                all.close();
            }
            return new Loaded(train, FashionMnist.test(), FashionMnist.CLASSES, ImagePreprocessing.grey(28, 28));
        }
        Path dir = Path.of(data);
        if (data.isBlank() || !Files.isDirectory(dir)) {
            throw new UsageException("--data must be fashion-mnist or a folder; " + dir + " is neither");
        }
        ImagePreprocessing preprocessing = ImagePreprocessing.imagenet(227); // shorter side 256, centre 227, ImageNet mean and std
        ImageFolder folder;
        try {
            folder = ImageFolder.load(dir, preprocessing.resize(), preprocessing.width(), preprocessing.mean(), preprocessing.std(), false);
        } catch (IOException e) { // no class folders, an unreadable image, ...: the message names the file
            throw new UsageException("--data " + e.getMessage(), e);
        }
        Dataset[] parts;
        try (Dataset all = folder.dataset()) {
            parts = all.split(1 - validationSplit, seed);
        } catch (IllegalArgumentException e) { // the fraction is checked above: too few images for it
            throw new UsageException("--validation-split " + validationSplit + " of the " + folder.files().size()
                    + " images in " + dir + " leaves the training or the test set empty", e);
        }
        Dataset train = parts[0];
        if (limit != null && limit < train.size()) {
            Dataset full = train;
            train = full.head(limit);
            full.close();
        }
        return new Loaded(train, parts[1], folder.classes(), preprocessing);
    }

    private void charts(Trainer.History h, Model net, Ops ops, Dataset test, List<String> classes) throws IOException {
        int n = h.epochs().size();
        double[] trainLoss = new double[n];
        double[] testLoss = new double[n];
        double[] trainAcc = new double[n];
        double[] testAcc = new double[n];
        for (int i = 0; i < n; i++) {
            Trainer.EpochResult e = h.epochs().get(i);
            trainLoss[i] = e.trainLoss();
            testLoss[i] = e.validationLoss();
            trainAcc[i] = e.trainAccuracy();
            testAcc[i] = e.validationAccuracy();
        }
        List<Charts.Series> series = new ArrayList<>();
        series.add(Charts.Series.of("train loss", trainLoss));
        series.add(Charts.Series.of("test loss", testLoss));
        series.add(Charts.Series.of("train accuracy", trainAcc));
        series.add(Charts.Series.of("test accuracy", testAcc));
        Charts.lines(out.resolve("training-curve.png"), model + " on " + data, "epoch", "loss / accuracy", series);
        long[][] confusion;
        try (Evaluation evaluation = new Evaluation(net, ops, test, new SoftmaxCrossEntropy(), batch)) {
            confusion = evaluation.run().confusion();
        }
        Charts.confusionMatrix(out.resolve("confusion-matrix.png"), model + " on " + data + ": test set", classes, confusion);
    }
}
