package dev.deepnet.bench;

import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Layer;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Relu;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.Loss;
import dev.deepnet.train.MeanSquaredError;
import dev.deepnet.train.Sgd;
import dev.deepnet.train.SoftmaxCrossEntropy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One whole training step — forward, loss, memoized backward, SGD update — through a compiled
 * {@link Plan}: an MLP and a LeNet-style convnet on 28x28 inputs at batch 64, and deep narrow
 * nets (10 sigmoid neurons per layer, batch 16) of growing depth to show the step time growing
 * linearly with depth; and the lecture's tiny nets one example per step (the 10-3-10 autoencoder,
 * the 5 x 10 deep narrow net), where the cost per op, not the arithmetic, is the step time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class TrainingStepBenchmark {

    @Param({"mlp-784-256-128-10", "lenet-28x28", "autoencoder-10-3-10", "narrow-5x10", "narrow-depth-2", "narrow-depth-8",
            "narrow-depth-32"})
    public String net;

    @Param({"onednn", "reference"})
    public String backend;

    private Ops ops;
    private Model model;
    private Plan plan;
    private Tensor target;
    private Loss loss = new SoftmaxCrossEntropy();
    private final Sgd sgd = new Sgd(0.01);

    @Setup(Level.Trial)
    public void setUp() {
        ops = Backend.valueOf(backend.toUpperCase(Locale.ROOT)).newOps();
        int batch = 64;
        if (net.startsWith("mlp")) {
            model = Model.sequential(Shape.of(784), 1, new Dense(784, 256, Activation.RELU), new Dense(256, 128, Activation.RELU),
                    new Dense(128, 10));
        } else if (net.startsWith("lenet")) {
            model = Model.sequential(Shape.of(1, 28, 28), 1, new Conv2d(1, 32, 5, 1, 2), new Relu(), new MaxPool2d(2, 2),
                    new Conv2d(32, 64, 5, 1, 2), new Relu(), new MaxPool2d(2, 2), new Flatten(),
                    new Dense(64 * 7 * 7, 128, Activation.RELU), new Dense(128, 10));
        } else if (net.startsWith("autoencoder")) {
            // the lecture's 10-3-10 sigmoid autoencoder, one shadow per step, squared error
            model = Model.sequential(Shape.of(10), 1, new Dense(10, 3, Activation.SIGMOID), new Dense(3, 10, Activation.SIGMOID));
            loss = new MeanSquaredError();
            batch = 1;
        } else if (net.equals("narrow-5x10")) {
            // the lecture's deep narrow net: 5 hidden layers of 10 sigmoid neurons, one example per step
            List<Layer> layers = new ArrayList<>();
            layers.add(new Dense(10, 10, Activation.SIGMOID));
            for (int i = 1; i < 5; i++) {
                layers.add(new Dense(10, 10, Activation.SIGMOID));
            }
            layers.add(new Dense(10, 3, Activation.SIGMOID));
            model = Model.sequential(Shape.of(10), 1, layers.toArray(new Layer[0]));
            loss = new MeanSquaredError();
            batch = 1;
        } else {
            int depth = Integer.parseInt(net.substring(net.lastIndexOf('-') + 1));
            List<Layer> layers = new ArrayList<>();
            layers.add(new Dense(10, 10, Activation.SIGMOID));
            for (int i = 1; i < depth; i++) {
                layers.add(new Dense(10, 10, Activation.SIGMOID));
            }
            layers.add(new Dense(10, 3));
            model = Model.sequential(Shape.of(10), 1, layers.toArray(new Layer[0]));
            batch = 16;
        }
        plan = model.compileForTraining(ops, batch, 1);
        Shape out = plan.output().shape();
        target = Tensor.allocate(out);
        SplittableRandom r = new SplittableRandom(1);
        for (long i = 0; i < plan.input().size(); i++) {
            plan.input().setFlat(i, (float) r.nextDouble());
        }
        for (int i = 0; i < out.dim(0); i++) {
            target.setFlat(i * out.dim(1) + r.nextInt((int) out.dim(1)), 1f);
        }
        step(); // builds every primitive
    }

    @Benchmark
    public void step() {
        plan.forward(true);
        loss.evaluate(plan.output(), target, plan.outputGradient());
        plan.backward();
        sgd.step(plan);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (long i = 0; i < plan.output().size(); i++) {
            if (!Float.isFinite(plan.output().getFlat(i))) {
                throw new IllegalStateException(net + " on " + backend + " diverged");
            }
        }
        target.close();
        plan.close();
        model.close();
        ops.close();
    }
}
