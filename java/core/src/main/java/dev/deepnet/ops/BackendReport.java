package dev.deepnet.ops;

import dev.deepnet.dnnl.Arg;
import dev.deepnet.dnnl.DataType;
import dev.deepnet.dnnl.Dnnl;
import dev.deepnet.dnnl.Engine;
import dev.deepnet.dnnl.FormatTag;
import dev.deepnet.dnnl.Memory;
import dev.deepnet.dnnl.MemoryDesc;
import dev.deepnet.dnnl.Primitive;
import dev.deepnet.dnnl.PrimitiveDesc;
import dev.deepnet.dnnl.Stream;
import dev.deepnet.nativelib.OneDnnLibrary;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What the native backend is and whether it works: oneDNN's version, where it was loaded from,
 * the instruction set it generates code for, and one matmul executed and checked against plain
 * Java. When oneDNN cannot load, {@link #failure} says why and nothing else is set.
 */
public record BackendReport(
        String onednnVersion,
        String library,
        String cpuIsa,
        SelfCheck selfCheck,
        String failure) {

    /** One primitive executed: which implementation oneDNN chose, its timings and its error. */
    public record SelfCheck(String operation, String implementation, double createMillis, double executeMillis,
            double maxRelativeError) {}

    /** Matrix size of the self-check matmul. */
    static final int SIZE = 256;

    public boolean available() {
        return failure == null;
    }

    /** Loads oneDNN if needed, reads its facts and runs the self-check. */
    public static BackendReport collect() {
        if (!OneDnnLibrary.isAvailable()) {
            return new BackendReport(null, null, null, null, OneDnnLibrary.failure().orElseThrow().getMessage());
        }
        return new BackendReport(Dnnl.version().toString(), Dnnl.libraryOrigin(), Dnnl.effectiveCpuIsa().name(),
                runSelfCheck(), null);
    }

    /** dst = a x b for random 256x256 matrices; the error is against a double-precision Java loop. */
    private static SelfCheck runSelfCheck() {
        int n = SIZE;
        SplittableRandom random = new SplittableRandom(42);
        float[] a = new float[n * n];
        float[] b = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (random.nextDouble() * 2 - 1);
            b[i] = (float) (random.nextDouble() * 2 - 1);
        }
        try (Engine engine = Engine.cpu(); Stream stream = new Stream(engine);
             MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, n, n);
             Memory ma = Memory.allocate(md, engine);
             Memory mb = Memory.allocate(md, engine);
             Memory mc = Memory.allocate(md, engine)) {
            MemorySegment.copy(a, 0, ma.data(), ValueLayout.JAVA_FLOAT, 0, a.length);
            MemorySegment.copy(b, 0, mb.data(), ValueLayout.JAVA_FLOAT, 0, b.length);
            long t0 = System.nanoTime();
            try (PrimitiveDesc pd = PrimitiveDesc.matmul(engine, md, md, null, md, null); Primitive matmul = new Primitive(pd)) {
                long t1 = System.nanoTime();
                Map<Integer, Memory> args = Map.of(Arg.SRC, ma, Arg.WEIGHTS, mb, Arg.DST, mc);
                matmul.execute(stream, args); // first run: page faults, thread start
                long t2 = System.nanoTime();
                matmul.execute(stream, args);
                long t3 = System.nanoTime();
                float[] c = mc.data().toArray(ValueLayout.JAVA_FLOAT);
                double worst = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int k = 0; k < n; k++) {
                            s += (double) a[i * n + k] * b[k * n + j];
                        }
                        worst = Math.max(worst, Math.abs(c[i * n + j] - s) / Math.max(Math.abs(s), 1.0));
                    }
                }
                return new SelfCheck("matmul f32 " + n + "x" + n + "x" + n, matmul.implementation(), (t1 - t0) / 1e6,
                        (t3 - t2) / 1e6, worst);
            }
        }
    }
}
