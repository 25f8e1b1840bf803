package dev.deepnet.train;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;

/**
 * How a model does on a dataset: mean loss, and for classes accuracy and top-5 error. Runs
 * inference plans (dropout off) over the whole set: batches of {@code batch} and one plan for
 * the remainder. Reusable across epochs; close it to free the plans.
 */
public final class Evaluation implements AutoCloseable {

    /**
     * Loss, and for labelled data accuracy, top-5 error and the confusion matrix
     * ({@code confusion[true][predicted]} counts; NaN and null without labels).
     */
    public record Result(double loss, double accuracy, double top5Error, int samples, long[][] confusion) {}

    private final Dataset data;
    private final Loss loss;
    private final Plan full; // batch rows, or null when the set is smaller
    private final Plan rest; // the remainder, or null
    private final Tensor fullTarget;
    private final Tensor restTarget;
    private final int batch;
    private final int[] order;
    private final int[] rowLabels;

    public Evaluation(Model model, Ops ops, Dataset data, Loss loss, int batch) {
        this.data = data;
        this.loss = loss;
        int n = data.size();
        this.batch = Math.min(batch, n);
        int remainder = n % this.batch;
        this.full = model.compileForInference(ops, this.batch);
        this.rest = remainder == 0 ? null : model.compileForInference(ops, remainder);
        this.fullTarget = Tensor.allocate(targetShape(data, this.batch));
        this.restTarget = remainder == 0 ? null : Tensor.allocate(targetShape(data, remainder));
        this.order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        this.rowLabels = new int[this.batch];
    }

    private static Shape targetShape(Dataset data, int rows) {
        return data.targets().shape().withDim(0, rows);
    }

    public Result run() {
        int n = data.size();
        double lossSum = 0;
        long top5Wrong = 0;
        long[][] confusion = null;
        for (int from = 0; from < n; from += batch) {
            int count = Math.min(batch, n - from);
            Plan plan = count == batch ? full : rest;
            Tensor target = count == batch ? fullTarget : restTarget;
            data.copyBatch(order, from, count, plan.input(), target);
            plan.forward(false);
            lossSum += loss.value(plan.output(), target) * count;
            if (data.hasLabels()) {
                int[] labels = count == rowLabels.length ? rowLabels : new int[count];
                for (int i = 0; i < count; i++) {
                    labels[i] = data.label(from + i);
                }
                int classes = plan.output().shape().intDim(1);
                if (confusion == null) {
                    confusion = new long[classes][classes];
                }
                int[] predicted = Metrics.argmax(plan.output());
                for (int i = 0; i < count; i++) {
                    confusion[labels[i]][predicted[i]]++;
                }
                top5Wrong += Math.round(Metrics.topKError(plan.output(), labels, Math.min(5, classes)) * count);
            }
        }
        if (confusion == null) {
            return new Result(lossSum / n, Double.NaN, Double.NaN, n, null);
        }
        long correct = 0;
        for (int c = 0; c < confusion.length; c++) {
            correct += confusion[c][c];
        }
        return new Result(lossSum / n, (double) correct / n, (double) top5Wrong / n, n, confusion);
    }

    @Override
    public void close() {
        full.close();
        if (rest != null) {
            rest.close();
        }
        fullTarget.close();
        if (restTarget != null) {
            restTarget.close();
        }
    }
}
