package dev.deepnet.bench;

import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * The lecture's ops at real sizes, oneDNN against the plain-Java reference, through the same
 * {@link Ops} calls a network makes (plain row-major tensors in and out; oneDNN's reorders to its
 * blocked layouts included). The {@code gflop} counter is GFLOP/s (multiply-adds count 2;
 * pooling counts one operation per window element).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
public class OpBenchmark {

    /** Which op at which size. */
    @Param({"alexnet-conv1-n1", "alexnet-conv1-n32", "lenet-conv-n64", "matmul-1024", "maxpool-3x3s2-n32"})
    public String op;

    @Param({"onednn", "reference"})
    public String backend;

    private Ops ops;
    private Tensor x;
    private Tensor w;
    private Tensor b;
    private Tensor y;
    private Conv2dSpec conv;
    private Pool2dSpec pool;
    private double gflopPerCall;

    /** GFLOP done, reported by JMH per second: GFLOP/s. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Work {
        public double gflop;
    }

    @Setup(Level.Trial)
    public void setUp() {
        ops = Backend.valueOf(backend.toUpperCase(java.util.Locale.ROOT)).newOps();
        switch (op) {
            case "alexnet-conv1-n1", "alexnet-conv1-n32" -> {
                int n = op.endsWith("n1") ? 1 : 32;
                conv = Conv2dSpec.of(4, 0); // 3x227x227 -> 96x55x55, 11x11 stride 4
                setUpConv(Shape.of(n, 3, 227, 227), Shape.of(96, 3, 11, 11));
            }
            case "lenet-conv-n64" -> {
                conv = Conv2dSpec.of(1, 2); // 1x28x28 -> 32x28x28, 5x5 pad 2
                setUpConv(Shape.of(64, 1, 28, 28), Shape.of(32, 1, 5, 5));
            }
            case "matmul-1024" -> {
                x = random(Shape.of(1024, 1024), 1);
                w = random(Shape.of(1024, 1024), 2);
                y = Tensor.allocate(Shape.of(1024, 1024));
                gflopPerCall = 2.0 * 1024 * 1024 * 1024 / 1e9;
            }
            case "maxpool-3x3s2-n32" -> {
                pool = Pool2dSpec.of(3, 2, 0); // AlexNet's first pooling: 96x55x55 -> 96x27x27
                x = random(Shape.of(32, 96, 55, 55), 1);
                Shape ys = pool.outputShape(x.shape());
                y = Tensor.allocate(ys);
                gflopPerCall = (double) ys.size() * 9 / 1e9;
            }
            default -> throw new IllegalArgumentException("unknown op " + op);
        }
        run(); // creates the primitive: first-call cost stays out of the measurement
    }

    private void setUpConv(Shape xs, Shape ws) {
        x = random(xs, 1);
        w = random(ws, 2);
        b = random(Shape.of(ws.dim(0)), 3);
        Shape ys = conv.outputShape(xs, ws);
        y = Tensor.allocate(ys);
        gflopPerCall = 2.0 * ys.size() * ws.dim(1) * ws.dim(2) * ws.dim(3) / 1e9;
    }

    private static Tensor random(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(s);
        for (long i = 0; i < s.size(); i++) {
            t.setFlat(i, (float) (r.nextDouble() - 0.5));
        }
        return t;
    }

    private void run() {
        switch (op) {
            case "matmul-1024" -> ops.matmul(x, w, y);
            case "maxpool-3x3s2-n32" -> ops.maxPool2dForward(pool, x, y, null);
            default -> ops.conv2dForward(conv, x, w, b, y);
        }
    }

    @Benchmark
    public void op(Work work) {
        run();
        work.gflop += gflopPerCall;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        // The output must be real numbers and not all zero, or the benchmark measured nothing.
        boolean nonZero = false;
        for (long i = 0; i < y.size(); i++) {
            float v = y.getFlat(i);
            if (!Float.isFinite(v)) {
                throw new IllegalStateException(op + " on " + backend + " produced " + v + " at " + i);
            }
            nonZero |= v != 0;
        }
        if (!nonZero) {
            throw new IllegalStateException(op + " on " + backend + " produced only zeros");
        }
        for (Tensor t : new Tensor[] {x, w, b, y}) {
            if (t != null) {
                t.close();
            }
        }
        ops.close();
    }
}
