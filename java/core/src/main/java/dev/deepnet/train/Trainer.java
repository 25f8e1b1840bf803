package dev.deepnet.train;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fits a model: epochs of shuffled minibatches, an optional validation set evaluated after each
 * epoch, listeners told of every step and epoch, and early stopping on the validation loss.
 * Deterministic: the same seed, data and thread count give the same weights bit for bit (the seed
 * drives shuffling and dropout; the model's seed drove initialisation).
 *
 * <p>Every step uses the same compiled plan, so a step allocates no native memory; the last
 * incomplete minibatch of an epoch is dropped (the shuffle changes which samples that is).
 */
public final class Trainer {

    /** One optimizer step. */
    public record StepEvent(int epoch, int step, int stepsPerEpoch, long globalStep, double loss, double accuracy,
            int batchSize, double learningRate) {}

    /** One epoch: training loss and accuracy (means over its steps), validation figures (NaN without a validation set). */
    public record EpochResult(int epoch, double trainLoss, double trainAccuracy, double validationLoss,
            double validationAccuracy, double validationTop5Error, double seconds, double samplesPerSecond) {}

    /** What {@link #fit} did. */
    public record History(List<EpochResult> epochs, boolean stoppedEarly) {
        public EpochResult last() {
            return epochs.get(epochs.size() - 1);
        }
    }

    /** Told of progress; every method is optional. */
    public interface Listener {
        default void onStart(int epochs, int stepsPerEpoch, int batchSize) {}

        default void onStep(StepEvent step) {}

        default void onEpoch(EpochResult epoch) {}

        default void onFinish(History history) {}
    }

    private final Model model;
    private final Ops ops;
    private final Loss loss;
    private final Optimizer optimizer;
    private final int batchSize;
    private final int epochs;
    private final long seed;
    private final Dataset validation;
    private final List<Listener> listeners;
    private final int patience;
    private final double minDelta;

    private Trainer(Builder b) {
        this.model = b.model;
        this.ops = b.ops;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.batchSize = b.batchSize;
        this.epochs = b.epochs;
        this.seed = b.seed;
        this.validation = b.validation;
        this.listeners = List.copyOf(b.listeners);
        this.patience = b.patience;
        this.minDelta = b.minDelta;
    }

    public static Builder builder(Model model, Ops ops, Loss loss, Optimizer optimizer) {
        return new Builder(model, ops, loss, optimizer);
    }

    /** Settings; defaults: batch 32, 10 epochs, seed 0, no validation, no early stopping. */
    public static final class Builder {
        private final Model model;
        private final Ops ops;
        private final Loss loss;
        private final Optimizer optimizer;
        private int batchSize = 32;
        private int epochs = 10;
        private long seed;
        private Dataset validation;
        private final List<Listener> listeners = new ArrayList<>();
        private int patience = Integer.MAX_VALUE;
        private double minDelta;

        private Builder(Model model, Ops ops, Loss loss, Optimizer optimizer) {
            this.model = model;
            this.ops = ops;
            this.loss = loss;
            this.optimizer = optimizer;
        }

        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        public Builder epochs(int epochs) {
            if (epochs < 1) {
                throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
            }
            this.epochs = epochs;
            return this;
        }

        /** Drives shuffling and dropout masks. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder validation(Dataset validation) {
            this.validation = validation;
            return this;
        }

        public Builder listener(Listener listener) {
            listeners.add(listener);
            return this;
        }

        /** Stop when the validation loss has not improved by more than {@code minDelta} for {@code patience} epochs. */
        public Builder earlyStopping(int patience, double minDelta) {
            if (patience < 1 || minDelta < 0) {
                throw new IllegalArgumentException("early stopping needs patience >= 1 and minDelta >= 0");
            }
            this.patience = patience;
            this.minDelta = minDelta;
            return this;
        }

        public Trainer build() {
            return new Trainer(this);
        }
    }

    /** Trains on {@code data} and returns the history. */
    public History fit(Dataset data) {
        int n = data.size();
        if (batchSize > n) {
            throw new IllegalArgumentException("batch size " + batchSize + " is larger than the training set (" + n + " samples)");
        }
        if (patience != Integer.MAX_VALUE && validation == null) {
            throw new IllegalStateException("early stopping watches the validation loss: give a validation set");
        }
        int stepsPerEpoch = n / batchSize;
        SplittableRandom shuffler = new SplittableRandom(seed);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        int[] batchLabels = data.hasLabels() ? new int[batchSize] : null;
        List<EpochResult> results = new ArrayList<>();
        boolean stopped = false;
        double best = Double.POSITIVE_INFINITY;
        int sinceBest = 0;
        long globalStep = 0;
        try (Plan plan = model.compileForTraining(ops, batchSize, shuffler.nextLong());
             Tensor target = Tensor.allocate(data.targets().shape().withDim(0, batchSize));
             Evaluation check = validation == null ? null : new Evaluation(model, ops, validation, loss, batchSize)) {
            listeners.forEach(l -> l.onStart(epochs, stepsPerEpoch, batchSize));
            for (int epoch = 1; epoch <= epochs && !stopped; epoch++) {
                long start = System.nanoTime();
                shuffle(order, shuffler);
                double lossSum = 0;
                double accSum = 0;
                for (int s = 0; s < stepsPerEpoch; s++) {
                    int from = s * batchSize;
                    data.copyBatch(order, from, batchSize, plan.input(), target);
                    double rate = optimizer.currentRate();
                    plan.forward(true);
                    double l = loss.evaluate(plan.output(), target, plan.outputGradient());
                    if (!Double.isFinite(l)) {
                        throw new IllegalStateException("the loss became " + l + " at epoch " + epoch + ", step " + (s + 1)
                                + "; lower the learning rate (" + rate + ")");
                    }
                    double acc = Double.NaN;
                    if (batchLabels != null) {
                        for (int i = 0; i < batchSize; i++) {
                            batchLabels[i] = data.label(order[from + i]);
                        }
                        acc = Metrics.accuracy(plan.output(), batchLabels);
                    }
                    plan.backward();
                    optimizer.step(plan);
                    lossSum += l;
                    accSum += acc;
                    globalStep++;
                    StepEvent event = new StepEvent(epoch, s + 1, stepsPerEpoch, globalStep, l, acc, batchSize, rate);
                    listeners.forEach(li -> li.onStep(event));
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                Evaluation.Result v = check == null ? null : check.run();
                EpochResult r = new EpochResult(epoch, lossSum / stepsPerEpoch, accSum / stepsPerEpoch,
                        v == null ? Double.NaN : v.loss(), v == null ? Double.NaN : v.accuracy(), v == null ? Double.NaN : v.top5Error(),
                        seconds, (double) stepsPerEpoch * batchSize / seconds);
                results.add(r);
                listeners.forEach(li -> li.onEpoch(r));
                if (v != null) {
                    if (v.loss() < best - minDelta) {
                        best = v.loss();
                        sinceBest = 0;
                    } else if (++sinceBest >= patience) {
                        stopped = true;
                    }
                }
            }
        }
        History history = new History(List.copyOf(results), stopped);
        listeners.forEach(l -> l.onFinish(history));
        return history;
    }

    /** Fisher–Yates with the trainer's seeded stream. */
    private static void shuffle(int[] order, SplittableRandom random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
}
