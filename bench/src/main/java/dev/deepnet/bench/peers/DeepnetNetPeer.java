package dev.deepnet.bench.peers;

import dev.deepnet.data.Dataset;
import dev.deepnet.data.FashionMnist;
import dev.deepnet.models.AlexNet;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.Loss;
import dev.deepnet.train.MeanSquaredError;
import dev.deepnet.train.Sgd;
import dev.deepnet.train.SoftmaxCrossEntropy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The deepnet side of the net workloads, through the public API a user has: a {@link Model}
 * ({@link AlexNet}, {@link LeNet}, the lecture's 10-3-10 autoencoder), a {@link Plan} from
 * {@code compileForInference}/{@code compileForTraining}, {@link SoftmaxCrossEntropy} or
 * {@link MeanSquaredError}, plain {@link Sgd}. torch_peer.py builds the same nets by hand and runs
 * the same steps.
 *
 * <ul>
 *   <li>{@code alexnet-fwd-b1}, {@code alexnet-fwd-b32}: inference forward (dropout off).</li>
 *   <li>{@code alexnet-train-b32}: forward (dropout on), softmax cross-entropy, backward, SGD lr 1e-4.</li>
 *   <li>{@code lenet-epoch}: LeNet on real Fashion-MNIST (shuffled, seed 1), minibatches of 64, each
 *       copied into the plan's input then one SGD step (lr 0.01); {@code --batches} timed minibatches
 *       after warm-up. scripts/bench-peers extrapolates their mean to the 60,000-image epoch.</li>
 *   <li>{@code autoencoder-step}: 10-3-10 sigmoid, batch 1, half squared error, SGD lr 1.0.</li>
 * </ul>
 */
public final class DeepnetNetPeer {
    private DeepnetNetPeer() {}

    static final int LENET_BATCH = 64;

    public static void main(String[] args) {
        PeerArgs a = PeerArgs.parse(args);
        Backend backend = Backend.valueOf(a.string("backend", "onednn").toUpperCase(Locale.ROOT));
        String peer = backend == Backend.REFERENCE ? "deepnet-ref" : "deepnet";
        if (a.workload().equals("probe")) {
            try (Ops ops = backend.newOps()) {
                Report.probe(peer).put("backend", ops.name()).put("lib", LoadedLibraries.matching("libdnnl"))
                        .put("java", Runtime.version().toString()).print();
            }
            return;
        }
        Measure measure = Measure.from(a);
        try (Ops ops = backend.newOps()) {
            switch (a.workload()) {
                case "alexnet-fwd-b1" -> forward(peer, a.workload(), ops, 1, measure);
                case "alexnet-fwd-b32" -> forward(peer, a.workload(), ops, 32, measure);
                case "alexnet-train-b32" -> alexnetTrain(peer, ops, measure);
                case "lenet-epoch" -> lenetEpoch(peer, ops, measure, a.integer("batches", 100));
                case "autoencoder-step" -> autoencoder(peer, ops, measure);
                default -> throw new IllegalArgumentException("unknown net workload '" + a.workload()
                        + "'; known: alexnet-fwd-b1, alexnet-fwd-b32, alexnet-train-b32, lenet-epoch, autoencoder-step");
            }
        }
    }

    private static void fill(Tensor t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        t.copyFrom(v);
    }

    private static Report report(String peer, String workload, Ops ops, Model net, int batch, double setupMicros) {
        return Report.result(peer, workload).put("setup_us", setupMicros).put("params", net.parameterCount()).put("batch", batch)
                .put("impl", ops.name());
    }

    private static void finish(Report report, Measure.Result r, Plan plan) {
        for (long i = 0; i < plan.output().size(); i++) {
            if (!Float.isFinite(plan.output().getFlat(i))) {
                throw new IllegalStateException("the output is not finite: " + plan.output().getFlat(i) + " at " + i);
            }
        }
        r.addTo(report);
        report.put("lib", LoadedLibraries.matching("libdnnl")).print();
    }

    private static void forward(String peer, String workload, Ops ops, int batch, Measure measure) {
        long t0 = System.nanoTime();
        try (Model net = AlexNet.create(1000, 1); Plan plan = net.compileForInference(ops, batch)) {
            fill(plan.input(), 1);
            Report report = report(peer, workload, ops, net, batch, (System.nanoTime() - t0) / 1e3);
            finish(report, measure.run(() -> plan.forward(false)), plan);
        }
    }

    private static void alexnetTrain(String peer, Ops ops, Measure measure) {
        int batch = 32;
        long t0 = System.nanoTime();
        try (Model net = AlexNet.create(1000, 1); Plan plan = net.compileForTraining(ops, batch, 1);
             Tensor labels = Tensor.allocate(plan.output().shape())) {
            fill(plan.input(), 1);
            for (int i = 0; i < batch; i++) {
                labels.setFlat(i * 1000L + (i * 37) % 1000, 1f);
            }
            Report report = report(peer, "alexnet-train-b32", ops, net, batch, (System.nanoTime() - t0) / 1e3);
            Runnable step = step(plan, new SoftmaxCrossEntropy(), labels, new Sgd(1e-4));
            finish(report, measure.run(step), plan);
        }
    }

    private static Runnable step(Plan plan, Loss loss, Tensor target, Sgd sgd) {
        return () -> {
            plan.forward(true);
            loss.evaluate(plan.output(), target, plan.outputGradient());
            plan.backward();
            sgd.step(plan);
        };
    }

    private static void lenetEpoch(String peer, Ops ops, Measure measure, int batches) {
        if (!FashionMnist.installed()) {
            throw new IllegalStateException(FashionMnist.notInstalledMessage());
        }
        long t0 = System.nanoTime();
        Dataset data;
        try {
            data = FashionMnist.train();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        double dataMicros = (System.nanoTime() - t0) / 1e3;
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom r = new SplittableRandom(1);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int perEpoch = n / LENET_BATCH; // full minibatches
        long t1 = System.nanoTime();
        try (data; Model net = LeNet.create(10, 1); Plan plan = net.compileForTraining(ops, LENET_BATCH, 1);
             Tensor target = Tensor.allocate(plan.output().shape())) {
            Report report = report(peer, "lenet-epoch", ops, net, LENET_BATCH, (System.nanoTime() - t1) / 1e3)
                    .put("data_us", dataMicros).put("images", n);
            Runnable step = step(plan, new SoftmaxCrossEntropy(), target, new Sgd(0.01));
            int[] cursor = {0};
            Runnable minibatch = () -> {
                data.copyBatch(order, cursor[0] * LENET_BATCH, LENET_BATCH, plan.input(), target);
                cursor[0] = (cursor[0] + 1) % perEpoch;
                step.run();
            };
            finish(report, measure.runFixed(minibatch, batches), plan);
        }
    }

    private static void autoencoder(String peer, Ops ops, Measure measure) {
        float[] x = {0.9f, 0.1f, 0.8f, 0.2f, 0.7f, 0.3f, 0.6f, 0.4f, 0.5f, 0.05f};
        long t0 = System.nanoTime();
        try (Model net = Model.sequential(Shape.of(10), 1, new Dense(10, 3, Activation.SIGMOID), new Dense(3, 10, Activation.SIGMOID));
             Plan plan = net.compileForTraining(ops, 1, 1); Tensor target = Tensor.of(Shape.of(1, 10), x)) {
            plan.input().copyFrom(x);
            Report report = report(peer, "autoencoder-step", ops, net, 1, (System.nanoTime() - t0) / 1e3);
            finish(report, measure.run(step(plan, new MeanSquaredError(), target, new Sgd(1.0))), plan);
        }
    }
}
