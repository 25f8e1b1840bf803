package dev.deepnet.lab.cli;

import dev.deepnet.models.AlexNet;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.Sgd;
import dev.deepnet.train.SoftmaxCrossEntropy;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deepnet bench alexnet}: forward latency at batch 1, forward throughput and one training
 * step at a larger batch, with primitive creation and warm-up reported apart from the steady
 * state. (JMH benchmarks in bench/ are the rigorous figures; this is the quick look.)
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time a model: forward latency at batch 1, throughput and a training step at --batch.")
public final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "the model: ${COMPLETION-CANDIDATES}", defaultValue = "alexnet")
    Target target;

    @Option(names = "--batch", description = "batch size for throughput and training (default: ${DEFAULT-VALUE})", defaultValue = "32")
    int batch;

    @Option(names = "--runs", description = "timed runs per measurement (default: ${DEFAULT-VALUE})", defaultValue = "5")
    int runs;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    enum Target { alexnet }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Options.atLeast("--batch", batch, 1);
        Options.atLeast("--runs", runs, 1);
        try (Model net = AlexNet.create(1000, 1); Ops ops = Backend.newDefaultOps()) {
            fitsInMemory(net);
            double gflop = net.flopsPerSample() / 1e9;
            out.printf(Locale.ROOT, "AlexNet: %,d parameters, %.2f GFLOP per image forward; backend %s, OMP_NUM_THREADS=%s%n",
                    net.parameterCount(), gflop, ops.name(), System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"));
            out.flush();

            try (Plan one = net.compileForInference(ops, 1)) {
                fill(one.input());
                long t0 = System.nanoTime();
                one.forward(false); // creates every primitive
                double first = (System.nanoTime() - t0) / 1e6;
                double[] ms = time(() -> one.forward(false));
                out.printf(Locale.ROOT, "  forward, batch 1:       first call (creates primitives) %.1f ms; then median %.2f ms"
                        + " (%.1f images/s, %.1f GFLOP/s)%n", first, median(ms), 1000 / median(ms), gflop / (median(ms) / 1000));
                out.flush();
            }
            try (Plan many = net.compileForInference(ops, batch)) {
                fill(many.input());
                long t0 = System.nanoTime();
                many.forward(false);
                double first = (System.nanoTime() - t0) / 1e6;
                double[] ms = time(() -> many.forward(false));
                double m = median(ms);
                out.printf(Locale.ROOT, "  forward, batch %d:      first call %.1f ms; then median %.1f ms (%.1f images/s, %.1f GFLOP/s)%n",
                        batch, first, m, batch * 1000 / m, batch * gflop / (m / 1000));
                out.flush();
            }
            try (Plan train = net.compileForTraining(ops, batch, 1); Tensor labels = Tensor.allocate(train.output().shape())) {
                fill(train.input());
                for (int i = 0; i < batch; i++) {
                    labels.setFlat(i * 1000L + (i * 37) % 1000, 1f);
                }
                SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
                Sgd sgd = new Sgd(1e-4);
                Runnable step = () -> {
                    train.forward(true);
                    loss.evaluate(train.output(), labels, train.outputGradient());
                    train.backward();
                    sgd.step(train);
                };
                long t0 = System.nanoTime();
                step.run();
                double first = (System.nanoTime() - t0) / 1e6;
                double[] ms = time(step);
                double m = median(ms);
                // forward + backward data + backward weights: about three forward passes of work
                out.printf(Locale.ROOT, "  training step, batch %d: first step %.1f ms; then median %.1f ms/step (%.1f images/s,"
                        + " %.1f GFLOP/s counting 3x forward)%n", batch, first, m, batch * 1000 / m, 3 * batch * gflop / (m / 1000));
            }
        }
        return 0;
    }

    private double[] time(Runnable r) {
        r.run(); // one more warm-up
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t = System.nanoTime();
            r.run();
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        return ms;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static void fill(Tensor t) {
        SplittableRandom r = new SplittableRandom(1);
        for (long i = 0; i < t.size(); i++) {
            t.setFlat(i, (float) r.nextDouble(-1, 1));
        }
    }

    /**
     * Refuses a --batch whose training plan cannot fit: its activations and their gradients (about
     * twice every node's output, 4 bytes a float) beside the machine's available memory.
     */
    private void fitsInMemory(Model net) {
        long perSample = 0;
        for (dev.deepnet.tensor.Shape s : net.shapes(1)) {
            perSample += s.size();
        }
        long needed = 2L * 4 * perSample * batch;
        long available = availableBytes();
        if (available > 0 && needed > available) {
            throw new UsageException(String.format(Locale.ROOT, "--batch %d needs about %.1f GiB for the training plan's activations "
                    + "and gradients; this machine has %.1f GiB available: give at most %d", batch, needed / 1073741824.0,
                    available / 1073741824.0, Math.max(1, available / (2L * 4 * perSample))));
        }
    }

    /** MemAvailable from /proc/meminfo, or 0 when it cannot be read (then nothing is refused). */
    private static long availableBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }
}
