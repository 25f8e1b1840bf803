package dev.deepnet.bench;

import dev.deepnet.infer.Predictor;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Model;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One Predictor serving LeNet single images (28x28 grey) to 1 and to 16 concurrent callers:
 * the total throughput (JMH sums the callers' operations per second). With a thread budget the
 * 16 callers share the cores through the predictor's workers instead of each starting an OpenMP
 * team on every core. {@code threadsPerWorker} 0 means the old behaviour: every worker's oneDNN
 * uses every core (the calling thread's OpenMP setting).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PredictorBenchmark {

    /** Threads each worker's oneDNN calls use; 0: every core, as before thread budgets (workers not bounded by them). */
    @Param({"1", "0"})
    public int threadsPerWorker;

    private Model model;
    private Predictor predictor;

    @State(Scope.Thread)
    public static class Sample {
        final float[] image = new float[28 * 28];

        @Setup(Level.Trial)
        public void fill() {
            SplittableRandom r = new SplittableRandom(Thread.currentThread().threadId());
            for (int i = 0; i < image.length; i++) {
                image[i] = (float) r.nextDouble();
            }
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        model = LeNet.create(10, 1);
        int cores = Predictor.defaultThreads();
        predictor = threadsPerWorker == 0
                ? new Predictor(model, t -> new dev.deepnet.ops.OneDnnOps(), 1, 16, 1) // every worker on every core; up to 16 workers
                : new Predictor(model, 1, cores, threadsPerWorker);
        predictor.warmup();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        predictor.close();
        model.close();
    }

    @Benchmark
    @Threads(1)
    public float[] oneCaller(Sample s) {
        return predictor.predict(s.image);
    }

    @Benchmark
    @Threads(16)
    public float[] sixteenCallers(Sample s) {
        return predictor.predict(s.image);
    }
}
