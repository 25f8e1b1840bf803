package dev.deepnet.lab.cli;

import dev.deepnet.data.Dataset;
import dev.deepnet.data.FashionMnist;
import dev.deepnet.data.ImageFolder;
import dev.deepnet.io.ModelFile;
import dev.deepnet.lab.report.Charts;
import dev.deepnet.lab.train.TrainingProgress;
import dev.deepnet.models.AlexNet;
import dev.deepnet.models.LeNet;
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


    @Option(names = "--model", description = "lenet (28x28 grey) or alexnet (227x227 RGB, in one group, not the paper's two)"
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
        if (epochs < 1 || batch < 1 || !(lr > 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--epochs and --batch must be >= 1 and --lr > 0");
        }
        Loaded sets = load();
        try (Dataset train = sets.train(); Dataset test = sets.test();
             Model net = switch (model) {
                 case "lenet" -> LeNet.create(sets.classes().size(), seed);
                 case "alexnet" -> AlexNet.create(sets.classes().size(), seed);
                 default -> throw new CommandLine.ParameterException(spec.commandLine(), "--model must be lenet or alexnet, not " + model);
             };
             Ops ops = Backend.newDefaultOps()) {
            Shape sample = train.inputs().shape().sample();
            if (!net.sampleShape().equals(sample)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--model " + model + " takes samples " + net.sampleShape()
                        + " but the data's are " + sample + "; use lenet with fashion-mnist, alexnet with image folders");
            }
            Files.createDirectories(out);
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
                                        Map.of("epoch", Integer.toString(e.epoch()), "test_accuracy", Double.toString(e.validationAccuracy())));
                            } catch (IOException ex) {
                                throw new UncheckedIOException(ex);
                            }
                        }
                    })
                    .build().fit(train);
            Path finalModel = out.resolve(model + ".safetensors");
            ModelFile.save(net, finalModel, sets.classes(), Map.of("epochs", Integer.toString(h.epochs().size())));
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

    private record Loaded(Dataset train, Dataset test, List<String> classes) {}

    private Loaded load() throws IOException {
        if (data.equals("fashion-mnist")) {
            if (!FashionMnist.installed()) {
                throw new CommandLine.ParameterException(spec.commandLine(), FashionMnist.notInstalledMessage());
            }
            Dataset train = FashionMnist.train();
            if (limit != null && limit < train.size()) {
                Dataset all = train;
                train = all.head(limit);
                all.close();
            }
            return new Loaded(train, FashionMnist.test(), FashionMnist.CLASSES);
        }
        Path dir = Path.of(data);
        if (!Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--data must be fashion-mnist or a folder; " + dir + " is neither");
        }
        ImageFolder folder = ImageFolder.load(dir, 256, 227);
        Dataset all = folder.dataset();
        Dataset[] parts = all.split(1 - validationSplit, seed);
        all.close();
        Dataset train = parts[0];
        if (limit != null && limit < train.size()) {
            Dataset full = train;
            train = full.head(limit);
            full.close();
        }
        return new Loaded(train, parts[1], folder.classes());
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
