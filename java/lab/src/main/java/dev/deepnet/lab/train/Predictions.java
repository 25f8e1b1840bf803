package dev.deepnet.lab.train;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Ops;
import dev.deepnet.train.Metrics;

/** Every sample's predicted class, and the confusion matrix against the labels. */
public final class Predictions {
    private Predictions() {}

    /** counts[true][predicted] over the whole dataset, run in inference batches of {@code batch}. */
    public static long[][] confusion(Model model, Ops ops, Dataset data, int classes, int batch) {
        long[][] counts = new long[classes][classes];
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Plan full = model.compileForInference(ops, Math.min(batch, n));
        Plan tail = n % full.batchSize() == 0 ? null : model.compileForInference(ops, n % full.batchSize());
        try {
            for (int from = 0; from < n; from += full.batchSize()) {
                int count = Math.min(full.batchSize(), n - from);
                Plan plan = count == full.batchSize() ? full : tail;
                data.copyBatch(order, from, count, plan.input(), null);
                plan.forward(false);
                int[] predicted = Metrics.argmax(plan.output());
                for (int i = 0; i < count; i++) {
                    counts[data.label(from + i)][predicted[i]]++;
                }
            }
        } finally {
            full.close();
            if (tail != null) {
                tail.close();
            }
        }
        return counts;
    }
}
