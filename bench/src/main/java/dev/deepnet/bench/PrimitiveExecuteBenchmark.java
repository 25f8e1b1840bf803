package dev.deepnet.bench;

import dev.deepnet.dnnl.Arg;
import dev.deepnet.dnnl.DataType;
import dev.deepnet.dnnl.Engine;
import dev.deepnet.dnnl.ExecArgs;
import dev.deepnet.dnnl.FormatTag;
import dev.deepnet.dnnl.Memory;
import dev.deepnet.dnnl.MemoryDesc;
import dev.deepnet.dnnl.Primitive;
import dev.deepnet.dnnl.PrimitiveDesc;
import dev.deepnet.dnnl.Stream;
import java.lang.foreign.ValueLayout;
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
 * A oneDNN f32 matmul executed through deepnet's owning handles: the whole path a plan's step
 * takes (argument checks, FFM downcall, stream wait). At size 8 it measures the per-call cost;
 * at 1024 the kernel, to compare with oneDNN called from C (DESIGN.md: about 80 GFLOP/s on one
 * thread, 150-162 on two). Threads: set OMP_NUM_THREADS (scripts/bench runs both).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PrimitiveExecuteBenchmark {

    @Param({"8", "1024"})
    public int size;

    private Engine engine;
    private Stream stream;
    private Primitive matmul;
    private Memory a;
    private Memory b;
    private Memory c;
    private ExecArgs args;

    @Setup(Level.Trial)
    public void setUp() {
        engine = Engine.cpu();
        stream = new Stream(engine);
        try (MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, size, size);
             PrimitiveDesc pd = PrimitiveDesc.matmul(engine, md, md, null, md, null)) {
            matmul = new Primitive(pd);
            a = Memory.allocate(md, engine);
            b = Memory.allocate(md, engine);
            c = Memory.allocate(md, engine);
        }
        SplittableRandom random = new SplittableRandom(1);
        for (long i = 0; i < (long) size * size; i++) {
            a.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextDouble());
            b.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextDouble());
        }
        args = new ExecArgs(3).set(Arg.SRC, a).set(Arg.WEIGHTS, b).set(Arg.DST, c);
    }

    @Benchmark
    public void matmul() {
        matmul.execute(stream, args);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        // Verify the benchmark computed something real: c[0][0] = sum_k a[0][k] * b[k][0].
        double expected = 0;
        for (int k = 0; k < size; k++) {
            expected += (double) a.data().getAtIndex(ValueLayout.JAVA_FLOAT, k)
                    * b.data().getAtIndex(ValueLayout.JAVA_FLOAT, (long) k * size);
        }
        float got = c.data().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        if (Math.abs(got - expected) > 1e-3 * Math.max(1, Math.abs(expected))) {
            throw new IllegalStateException("matmul result " + got + " != " + expected);
        }
        args.close();
        a.close();
        b.close();
        c.close();
        matmul.close();
        stream.close();
        engine.close();
    }
}
