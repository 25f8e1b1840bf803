package dev.deepnet.lab.experiments;

import dev.deepnet.data.Dataset;
import dev.deepnet.lab.report.Charts;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.train.Adam;
import dev.deepnet.train.Evaluation;
import dev.deepnet.train.LearningRateSchedule;
import dev.deepnet.train.MeanSquaredError;
import dev.deepnet.train.Optimizer;
import dev.deepnet.train.Sgd;
import dev.deepnet.train.SoftmaxCrossEntropy;
import dev.deepnet.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Greedy layer-wise pretraining (Hinton, Osindero and Teh 2006; Bengio et al. 2007): train an
 * autoencoder on the inputs, freeze its encoder, train a second autoencoder on the first one's
 * codes, and so on up the stack; then put an output layer on the encoders and fine-tune the whole
 * net on labelled data. The comparison: the same net from random initialisation (the same seed,
 * so the same output layer), fine-tuned the same way for the same number of epochs, over several
 * seeds.
 *
 * <p>Data, chosen where the literature says pretraining matters most — a deep net of sigmoid
 * neurons (784-128-128-128-128-10) and few labels: Fashion-MNIST, the first {@value #UNLABELLED}
 * training images for pretraining (their labels unused), the first {@value #LABELLED} of them with
 * labels for fine-tuning, the first {@value #TEST} test images for the test error. Every
 * autoencoder has sigmoid codes and sigmoid reconstructions and minimises the lecture's
 * performance function, half the squared error between the reconstruction and its input (pixels
 * in [0, 1], and codes in (0, 1) above the first layer), with Adam.
 *
 * <p>Fine-tuning uses SGD with momentum, as the papers did. That is where the claim lives: with
 * SGD the randomly initialised deep sigmoid net learns slowly (its bottom layers get tiny
 * gradients). A better optimizer narrows or removes the gap, so the run also fine-tunes seed 1's
 * nets with Adam and reports that contrast beside the claim.
 *
 * <p>Autoencoder k is built as one net: the frozen encoders 1 .. k-1, encoder k, decoder k. Its
 * reconstruction target is the output of the frozen encoder below it (or the image), read from
 * the plan each step: the frozen prefix runs forward only (the plan computes no gradient for
 * it), and its weights do not move — which the run checks.
 */
public final class LayerwisePretraining implements Experiment {

    /** Widths from the input up: 784 pixels, then four hidden layers of sigmoid neurons. */
    static final int[] WIDTHS = {28 * 28, 128, 128, 128, 128};
    static final int UNLABELLED = 2000;
    static final int LABELLED = 1000;
    static final int TEST = 2000;
    static final int PRETRAINING_EPOCHS = 3;
    static final double PRETRAINING_RATE = 1e-3;
    static final int FINE_TUNING_EPOCHS = 20;
    static final double SGD_RATE = 0.1;
    static final double MOMENTUM = 0.9;
    static final double ADAM_RATE = 3e-3;
    static final int BATCH = 50;
    static final int EVALUATE_EVERY = 2;
    static final int SEEDS = 5;

    /** Which optimizer fine-tunes: SGD with momentum (as in the papers), or Adam (the contrast). */
    enum FineTuner {
        SGD, ADAM
    }

    /** Hyperparameters of one comparison; the defaults are the experiment's. */
    record Settings(int[] widths, int pretrainingEpochs, double pretrainingRate, FineTuner fineTuner, double fineTuningRate,
            int fineTuningEpochs, int batch, int evaluateEvery) {
        static Settings defaults() {
            return new Settings(WIDTHS, PRETRAINING_EPOCHS, PRETRAINING_RATE, FineTuner.SGD, SGD_RATE, FINE_TUNING_EPOCHS, BATCH,
                    EVALUATE_EVERY);
        }

        Settings withFineTuner(FineTuner f, double rate) {
            return new Settings(widths, pretrainingEpochs, pretrainingRate, f, rate, fineTuningEpochs, batch, evaluateEvery);
        }

        int hiddenLayers() {
            return widths.length - 1;
        }
    }

    /**
     * One autoencoder's pretraining: its reconstruction error (half the squared error per sample,
     * mean over the pretraining images) before and after training, the mean training loss of each
     * epoch, and the largest change of any weight of the frozen encoders below it while it trained.
     */
    record LayerPretraining(int layer, double before, double after, double[] epochLoss, double frozenChange) {}

    /** The trained encoders' weights (out, in) and biases, bottom first, and how each layer's pretraining went. */
    record Stack(List<float[]> weights, List<float[]> biases, List<LayerPretraining> layers) {}

    /** A net's error (1 - accuracy, with the net in inference) after every {@code evaluateEvery} epochs of fine-tuning. */
    record FineTuning(double[] testError, double[] trainError) {
        double finalTestError() {
            return testError[testError.length - 1];
        }

        double finalTrainError() {
            return trainError[trainError.length - 1];
        }
    }

    /** One seed: the pretrained stack, and the pretrained and the randomly initialised net after the same fine-tuning. */
    record Run(long seed, Stack stack, FineTuning pretrained, FineTuning random) {}

    /** Runs one seed: pretrains a stack, fine-tunes it, and fine-tunes the same architecture from random weights. */
    static Run compare(Dataset unlabelled, Dataset labelled, Dataset test, Settings s, long seed) {
        try (Ops ops = Backend.newDefaultOps()) {
            Stack stack = pretrain(ops, unlabelled, s, seed);
            return new Run(seed, stack, fineTune(ops, stack, labelled, test, s, seed), fineTune(ops, null, labelled, test, s, seed));
        }
    }

    /** Trains the autoencoders one layer at a time, each on the codes of the frozen encoders below it. */
    static Stack pretrain(Ops ops, Dataset images, Settings s, long seed) {
        SplittableRandom seeds = new SplittableRandom(seed);
        List<Dense> encoders = new ArrayList<>();
        List<LayerPretraining> layers = new ArrayList<>();
        try {
            for (int k = 0; k < s.hiddenLayers(); k++) {
                Dense encoder = new Dense(s.widths()[k], s.widths()[k + 1], Activation.SIGMOID);
                encoder.named("encoder" + (k + 1));
                Dense decoder = new Dense(s.widths()[k + 1], s.widths()[k], Activation.SIGMOID);
                decoder.named("decoder" + (k + 1));
                encoders.add(encoder);
                try {
                    List<float[]> frozenBefore = new ArrayList<>();
                    for (int i = 0; i < k; i++) {
                        frozenBefore.add(encoders.get(i).weight().value().toArray());
                    }
                    LayerPretraining trained = trainAutoencoder(k + 1, ops, images, encoders.subList(0, k), encoder, decoder, s,
                            seeds.nextLong());
                    double change = 0;
                    for (int i = 0; i < k; i++) {
                        change = Math.max(change, largestDifference(frozenBefore.get(i), encoders.get(i).weight().value().toArray()));
                    }
                    layers.add(new LayerPretraining(k + 1, trained.before(), trained.after(), trained.epochLoss(), change));
                    encoder.freeze();
                } finally {
                    decoder.close();
                }
            }
            List<float[]> weights = new ArrayList<>();
            List<float[]> biases = new ArrayList<>();
            for (Dense e : encoders) {
                weights.add(e.weight().value().toArray());
                biases.add(e.bias().value().toArray());
            }
            return new Stack(weights, biases, layers);
        } finally {
            encoders.forEach(Layer::close);
        }
    }

    /**
     * Trains {@code encoder} and {@code decoder} to reconstruct the codes of the frozen
     * {@code below} (the image itself for the first layer); the frozen change is left 0 for the caller.
     */
    static LayerPretraining trainAutoencoder(int layer, Ops ops, Dataset images, List<Dense> below, Dense encoder, Dense decoder,
            Settings s, long seed) {
        Model.Builder b = Model.builder(images.inputs().shape().sample());
        Node code = b.add(new Flatten(), b.input());
        for (Dense e : below) {
            code = b.add(e, code);
        }
        Node reconstruction = b.add(decoder, b.add(encoder, code));
        // Building the model initialises the new encoder and decoder from the seed; the frozen encoders keep their weights.
        // The model is not closed: its layers are the caller's.
        Model net = b.build(reconstruction, seed);
        MeanSquaredError loss = new MeanSquaredError();
        Optimizer adam = new Adam(s.pretrainingRate());
        SplittableRandom shuffler = new SplittableRandom(seed);
        int n = images.size();
        int steps = n / s.batch();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        double[] epochLoss = new double[s.pretrainingEpochs()];
        try (Plan plan = net.compileForTraining(ops, s.batch(), seed)) {
            double before = reconstructionError(plan, images, code, loss);
            for (int epoch = 0; epoch < s.pretrainingEpochs(); epoch++) {
                shuffle(order, shuffler);
                for (int step = 0; step < steps; step++) {
                    images.copyBatch(order, step * s.batch(), s.batch(), plan.input(), null);
                    plan.forward(true);
                    // The target is the frozen code this autoencoder reconstructs, read where the plan left it.
                    epochLoss[epoch] += loss.evaluate(plan.output(), plan.output(code), plan.outputGradient()) / steps;
                    plan.backward();
                    adam.step(plan);
                }
            }
            return new LayerPretraining(layer, before, reconstructionError(plan, images, code, loss), epochLoss, 0);
        }
    }

    /** Mean reconstruction error over every whole batch of {@code images}, in order. */
    private static double reconstructionError(Plan plan, Dataset images, Node code, MeanSquaredError loss) {
        int batch = plan.batchSize();
        int[] order = new int[images.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        double sum = 0;
        int batches = 0;
        for (int from = 0; from + batch <= order.length; from += batch) {
            images.copyBatch(order, from, batch, plan.input(), null);
            plan.forward(false);
            sum += loss.value(plan.output(), plan.output(code));
            batches++;
        }
        return sum / batches;
    }

    /**
     * The classifier — the hidden layers, then a linear layer of 10 class scores — built from
     * {@code seed}, its hidden layers starting from {@code stack} (null: the random initialisation).
     * The same seed initialises both alike, output layer included; the pretrained weights then
     * replace the hidden layers'.
     */
    static Model classifier(Stack stack, Settings s, Shape sample, long seed) {
        List<Layer> layers = new ArrayList<>();
        layers.add(new Flatten());
        List<Dense> hidden = new ArrayList<>();
        for (int k = 0; k < s.hiddenLayers(); k++) {
            hidden.add(new Dense(s.widths()[k], s.widths()[k + 1], Activation.SIGMOID));
        }
        layers.addAll(hidden);
        layers.add(new Dense(s.widths()[s.hiddenLayers()], 10));
        Model net = Model.sequential(sample, seed, layers.toArray(new Layer[0]));
        try {
            if (stack != null) {
                for (int k = 0; k < hidden.size(); k++) {
                    hidden.get(k).weight().value().copyFrom(stack.weights().get(k));
                    hidden.get(k).bias().value().copyFrom(stack.biases().get(k));
                }
            }
            return net;
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }

    /** Trains every layer of {@link #classifier} with softmax cross-entropy on the labelled images. */
    static FineTuning fineTune(Ops ops, Stack stack, Dataset labelled, Dataset test, Settings s, long seed) {
        int points = s.fineTuningEpochs() / s.evaluateEvery();
        double[] testError = new double[points];
        double[] trainError = new double[points];
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        try (Model net = classifier(stack, s, labelled.inputs().shape().sample(), seed);
             Evaluation onTest = new Evaluation(net, ops, test, loss, 500);
             Evaluation onTrain = new Evaluation(net, ops, labelled, loss, 500)) {
            // Cosine annealing to 0 over the budget: both nets end on small steps, so their final errors are not one step's noise.
            LearningRateSchedule rate = LearningRateSchedule.cosine(s.fineTuningRate(),
                    (long) s.fineTuningEpochs() * (labelled.size() / s.batch()), 0);
            Optimizer optimizer = switch (s.fineTuner()) {
                case SGD -> new Sgd(rate, MOMENTUM, 0);
                case ADAM -> new Adam(rate, 0.9, 0.999, 1e-8, 0);
            };
            Trainer.builder(net, ops, loss, optimizer).batchSize(s.batch()).epochs(s.fineTuningEpochs()).seed(seed)
                    .listener(new Trainer.Listener() {
                        @Override
                        public void onEpoch(Trainer.EpochResult epoch) {
                            if (epoch.epoch() % s.evaluateEvery() == 0) {
                                int i = epoch.epoch() / s.evaluateEvery() - 1;
                                testError[i] = 1 - onTest.run().accuracy();
                                trainError[i] = 1 - onTrain.run().accuracy();
                            }
                        }
                    }).build().fit(labelled);
        }
        return new FineTuning(testError, trainError);
    }

    private static double largestDifference(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    /** Fisher–Yates with a seeded stream. */
    private static void shuffle(int[] order, SplittableRandom random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    /** The pretraining images (labels unused), the labelled images for fine-tuning (the first of them), the test images. */
    static Dataset[] data(int unlabelled, int labelled, int test) throws IOException {
        Dataset[] sets = FashionClassifier.load();
        try (Dataset train = sets[0]; Dataset t = sets[1]) {
            return new Dataset[] {train.head(unlabelled), train.head(labelled), t.head(test)};
        }
    }

    @Override
    public String name() {
        return "layerwise-pretraining";
    }

    @Override
    public String title() {
        return "Layer-wise pretraining: stacked autoencoders, then fine-tuning";
    }

    @Override
    public Result run(Path dir) throws IOException {
        Settings s = Settings.defaults();
        Settings adam = s.withFineTuner(FineTuner.ADAM, ADAM_RATE);
        List<Run> runs = new ArrayList<>();
        FineTuning adamPretrained;
        FineTuning adamRandom;
        Dataset[] data = data(UNLABELLED, LABELLED, TEST);
        try (Dataset unlabelled = data[0]; Dataset labelled = data[1]; Dataset test = data[2]) {
            for (long seed = 1; seed <= SEEDS; seed++) {
                runs.add(compare(unlabelled, labelled, test, s, seed));
            }
            // The contrast, on seed 1's stack: the same comparison with a modern optimizer.
            try (Ops ops = Backend.newDefaultOps()) {
                adamPretrained = fineTune(ops, runs.get(0).stack(), labelled, test, adam, 1);
                adamRandom = fineTune(ops, null, labelled, test, adam, 1);
            }
        }
        List<Path> figures = List.of(drawReconstruction(dir.resolve("layerwise-pretraining-reconstruction.png"), runs.get(0)),
                drawFineTuning(dir.resolve("layerwise-pretraining-fine-tuning.png"), runs, s),
                drawContrast(dir.resolve("layerwise-pretraining-adam.png"), adamPretrained, adamRandom, adam));

        Table.Builder perSeed = Table.builder("Per seed: test error after fine-tuning (SGD), and each autoencoder's reconstruction error"
                + " before → after pretraining", "seed", "test error, pretrained", "test error, random start",
                "training error, pretrained", "training error, random start", "layer 1", "layer 2", "layer 3", "layer 4",
                "largest change of a frozen weight");
        double pretrainedMean = 0;
        double randomMean = 0;
        int pretrainedBetter = 0;
        boolean reconstructionsFell = true;
        double frozenChange = 0;
        for (Run r : runs) {
            List<Object> row = new ArrayList<>(List.of(r.seed(), percent(r.pretrained().finalTestError()),
                    percent(r.random().finalTestError()), percent(r.pretrained().finalTrainError()),
                    percent(r.random().finalTrainError())));
            for (LayerPretraining l : r.stack().layers()) {
                row.add(String.format(Locale.ROOT, "%.2f → %.2f", l.before(), l.after()));
                reconstructionsFell &= l.after() < l.before();
                frozenChange = Math.max(frozenChange, l.frozenChange());
            }
            row.add(frozenChange == 0 ? "0" : String.format(Locale.ROOT, "%.2g", frozenChange));
            perSeed.row(row.toArray());
            pretrainedMean += r.pretrained().finalTestError() / runs.size();
            randomMean += r.random().finalTestError() / runs.size();
            pretrainedBetter += r.pretrained().finalTestError() < r.random().finalTestError() ? 1 : 0;
        }
        Table contrast = Table.builder("Seed 1 fine-tuned with Adam (rate " + ADAM_RATE + ", cosine) instead of SGD", "start",
                "test error", "training error")
                .row("pretrained", percent(adamPretrained.finalTestError()), percent(adamPretrained.finalTrainError()))
                .row("random", percent(adamRandom.finalTestError()), percent(adamRandom.finalTrainError())).build();
        boolean held = pretrainedMean < randomMean && reconstructionsFell && frozenChange == 0;
        double adamAdvantage = adamRandom.finalTestError() - adamPretrained.finalTestError();
        String measured = String.format(Locale.ROOT, "A %s net of sigmoid neurons on Fashion-MNIST: four autoencoders pretrained"
                + " one above the other on %d unlabelled images (%d epochs each, Adam), then %d epochs of fine-tuning on %d labelled"
                + " images (SGD, momentum %.1f, rate %s annealed to 0), tested on %d images. %s, and the frozen encoders below each"
                + " did not change while it trained (largest change of a weight: %s). Over %d seeds the pretrained net's test error"
                + " was %s on average, the same net from random weights %s; the pretrained net was better in %d of %d seeds.%s"
                + " The advantage depends on the optimizer: fine-tuned with Adam (rate %s) instead, seed 1's pretrained net ends at"
                + " %s test error and its random start at %s — %s.", architecture(s), UNLABELLED, s.pretrainingEpochs(),
                s.fineTuningEpochs(), LABELLED, MOMENTUM, s.fineTuningRate(), TEST,
                reconstructionsFell ? "Every autoencoder lowered its reconstruction error" : "Not every autoencoder lowered its"
                        + " reconstruction error", frozenChange == 0 ? "0" : String.format(Locale.ROOT, "%.2g", frozenChange),
                runs.size(), percent(pretrainedMean), percent(randomMean), pretrainedBetter, runs.size(), randomMean > 0.5
                        ? " From random weights, SGD leaves the deep sigmoid net near its plateau (see deep-narrow): the bottom"
                                + " layers get tiny gradients. Pretraining starts every layer with features of the images."
                        : "", ADAM_RATE, percent(adamPretrained.finalTestError()), percent(adamRandom.finalTestError()),
                adamAdvantage > 0 ? points(adamAdvantage) + " in favour of pretraining"
                        : "with Adam the random start does as well or better, by " + points(-adamAdvantage));
        return new Result(name(), title(), "Training a deep net one layer at a time as stacked autoencoders, then fine-tuning it"
                + " with labels, gives a better net than the same architecture trained from random weights (Hinton et al. 2006;"
                + " Bengio et al. 2007) — most of all for deep nets and little labelled data.", measured, held, figures,
                List.of(perSeed.build(), contrast));
    }

    static String architecture(Settings s) {
        StringBuilder b = new StringBuilder();
        for (int w : s.widths()) {
            b.append(w).append('-');
        }
        return b.append(10).toString();
    }

    /** Seed 1's autoencoders: each epoch's mean training loss relative to the error before pretraining. */
    private static Path drawReconstruction(Path png, Run run) throws IOException {
        List<Charts.Series> series = new ArrayList<>();
        for (LayerPretraining l : run.stack().layers()) {
            double[] epochs = new double[l.epochLoss().length + 1];
            double[] relative = new double[epochs.length];
            relative[0] = 1;
            for (int e = 0; e < l.epochLoss().length; e++) {
                epochs[e + 1] = e + 1;
                relative[e + 1] = l.epochLoss()[e] / l.before();
            }
            series.add(new Charts.Series("autoencoder " + l.layer(), epochs, relative));
        }
        Charts.lines(png, "Pretraining, seed 1: reconstruction error relative to before training", "epoch",
                "reconstruction error / error before", series);
        return png;
    }

    /** Test and training error while fine-tuning, the mean over seeds, for both starts. */
    private static Path drawFineTuning(Path png, List<Run> runs, Settings s) throws IOException {
        int points = runs.get(0).pretrained().testError().length;
        double[] epochs = new double[points];
        double[][] means = new double[4][points];
        for (int i = 0; i < points; i++) {
            epochs[i] = (i + 1) * s.evaluateEvery();
            for (Run r : runs) {
                means[0][i] += r.pretrained().testError()[i] / runs.size();
                means[1][i] += r.random().testError()[i] / runs.size();
                means[2][i] += r.pretrained().trainError()[i] / runs.size();
                means[3][i] += r.random().trainError()[i] / runs.size();
            }
        }
        Charts.lines(png, "Fine-tuning with SGD: error, mean over " + runs.size() + " seeds", "epoch", "error (1 - accuracy)", List.of(
                new Charts.Series("pretrained, test images", epochs, means[0]),
                new Charts.Series("random start, test images", epochs, means[1]),
                new Charts.Series("pretrained, labelled training images", epochs, means[2]),
                new Charts.Series("random start, labelled training images", epochs, means[3])));
        return png;
    }

    private static Path drawContrast(Path png, FineTuning pretrained, FineTuning random, Settings s) throws IOException {
        double[] epochs = new double[pretrained.testError().length];
        for (int i = 0; i < epochs.length; i++) {
            epochs[i] = (i + 1) * s.evaluateEvery();
        }
        Charts.lines(png, "The contrast: fine-tuning with Adam instead (seed 1)", "epoch", "test error (1 - accuracy)", List.of(
                new Charts.Series("pretrained", epochs, pretrained.testError()),
                new Charts.Series("random start", epochs, random.testError())));
        return png;
    }

    /** A difference of two error rates: "1.9 percentage points". */
    static String points(double fraction) {
        return String.format(Locale.ROOT, "%.1f percentage points", 100 * fraction);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f %%", 100 * fraction);
    }
}
