package dev.deepnet.bench.peers;

import dev.deepnet.dnnl.Algorithm;
import dev.deepnet.dnnl.Arg;
import dev.deepnet.dnnl.DataType;
import dev.deepnet.dnnl.Dnnl;
import dev.deepnet.dnnl.Engine;
import dev.deepnet.dnnl.ExecArgs;
import dev.deepnet.dnnl.FormatTag;
import dev.deepnet.dnnl.Memory;
import dev.deepnet.dnnl.MemoryDesc;
import dev.deepnet.dnnl.Primitive;
import dev.deepnet.dnnl.PrimitiveDesc;
import dev.deepnet.dnnl.PropKind;
import dev.deepnet.dnnl.Stream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The FFM peer of the primitive table: deepnet's owning handles ({@link PrimitiveDesc},
 * {@link Primitive}, {@link Memory}, {@link ExecArgs}) over the bundled libdnnl, doing what
 * dnnl_peer.c and {@link JniPrimitivePeer} do: convolutions created with {@code format_tag any}
 * and fed in the layouts oneDNN chose (inputs reordered once, before timing), matmul and ReLU on
 * plain layouts. Each timed call is {@link Primitive#execute}: argument checks, the downcall, the
 * stream wait.
 */
public final class FfmPrimitivePeer {
    private FfmPrimitivePeer() {}

    public static void main(String[] args) {
        PeerArgs a = PeerArgs.parse(args);
        if (a.workload().equals("probe")) {
            Engine engine = Engine.cpu(); // loads the library and initialises oneDNN, as a run does
            try {
                Report.probe("ffm").put("onednn", Dnnl.version().toString()).put("isa", Dnnl.effectiveCpuIsa().toString())
                        .put("lib", LoadedLibraries.matching("libdnnl")).put("gomp", LoadedLibraries.matching("libgomp"))
                        .put("origin", Dnnl.libraryOrigin()).put("java", Runtime.version().toString()).print();
            } finally {
                engine.close();
            }
            return;
        }
        run(PrimitiveWorkload.of(a.workload()), Measure.from(a));
    }

    private static void run(PrimitiveWorkload w, Measure measure) {
        Deque<AutoCloseable> owned = new ArrayDeque<>();
        try {
            long setupStart = System.nanoTime();
            Engine engine = own(owned, Engine.cpu());
            Stream stream = own(owned, new Stream(engine));
            long createStart = System.nanoTime();
            PrimitiveDesc pd = own(owned, create(w, engine, owned));
            Primitive primitive = own(owned, new Primitive(pd));
            double createMicros = (System.nanoTime() - createStart) / 1e3;

            ExecArgs args = own(owned, new ExecArgs(4));
            args.set(Arg.SRC, input(owned, engine, stream, w.src, pd.srcDesc(), TestData.SRC));
            if (w.weights != null) {
                args.set(Arg.WEIGHTS, input(owned, engine, stream, w.weights, pd.weightsDesc(), TestData.WEIGHTS));
            }
            if (w.isConv()) {
                args.set(Arg.BIAS, input(owned, engine, stream, new long[] {w.weights[0]}, pd.biasDesc(), TestData.BIAS));
            }
            Memory out = own(owned, Memory.allocate(pd.dstDesc(), engine));
            args.set(Arg.DST, out);
            double setupMicros = (System.nanoTime() - setupStart) / 1e3;

            Measure.Result r = measure.run(() -> primitive.execute(stream, args));
            // The same primitive again: what creation costs once oneDNN's primitive cache has it.
            long again = System.nanoTime();
            Deque<AutoCloseable> second = new ArrayDeque<>();
            try {
                own(second, new Primitive(own(second, create(w, engine, second))));
            } finally {
                close(second);
            }
            double recreateMicros = (System.nanoTime() - again) / 1e3;
            Report report = Report.result("ffm", w.id()).put("setup_us", setupMicros).put("create_us", createMicros)
                    .put("recreate_us", recreateMicros);
            r.addTo(report);
            report.put("checksum", checksum(out.data())).put("impl", primitive.implementation())
                    .put("lib", LoadedLibraries.matching("libdnnl")).print();
        } finally {
            close(owned);
        }
    }

    private static void close(Deque<AutoCloseable> owned) {
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                throw new IllegalStateException("closing failed", e);
            }
        }
    }

    /** The workload's primitive descriptor; the memory descriptors it was made from go to {@code owned}. */
    private static PrimitiveDesc create(PrimitiveWorkload w, Engine engine, Deque<AutoCloseable> owned) {
        long[] dst = w.dst();
        return switch (w) {
            case CONV_ALEXNET1, CONV_LENET -> {
                MemoryDesc src = own(owned, MemoryDesc.of(DataType.F32, FormatTag.ANY, w.src));
                MemoryDesc wei = own(owned, MemoryDesc.of(DataType.F32, FormatTag.ANY, w.weights));
                MemoryDesc bias = own(owned, MemoryDesc.of(DataType.F32, FormatTag.X, w.weights[0]));
                MemoryDesc out = own(owned, MemoryDesc.of(DataType.F32, FormatTag.ANY, dst));
                long s = w.stride;
                long p = w.pad;
                yield PrimitiveDesc.convolutionForward(engine, PropKind.FORWARD_INFERENCE, Algorithm.CONVOLUTION_DIRECT, src, wei,
                        bias, out, new long[] {s, s}, new long[] {0, 0}, new long[] {p, p}, new long[] {p, p}, null);
            }
            case MATMUL_1024 -> {
                MemoryDesc md = own(owned, MemoryDesc.of(DataType.F32, FormatTag.AB, w.src));
                yield PrimitiveDesc.matmul(engine, md, md, null, md, null);
            }
            case RELU_10 -> {
                MemoryDesc md = own(owned, MemoryDesc.of(DataType.F32, FormatTag.A, w.src));
                yield PrimitiveDesc.eltwiseForward(engine, PropKind.FORWARD_INFERENCE, Algorithm.ELTWISE_RELU, md, md, 0f, 0f, null);
            }
        };
    }

    private static <T extends AutoCloseable> T own(Deque<AutoCloseable> owned, T resource) {
        owned.push(resource);
        return resource;
    }

    /**
     * A memory in the layout the primitive wants, holding the test data: filled in plain
     * row-major order and, where oneDNN chose another layout, reordered into it once.
     */
    private static Memory input(Deque<AutoCloseable> owned, Engine engine, Stream stream, long[] dims, MemoryDesc wanted, long offset) {
        MemoryDesc plainDesc = own(owned, MemoryDesc.of(DataType.F32, FormatTag.plain(dims.length), dims));
        Memory plain = own(owned, Memory.allocate(plainDesc, engine));
        MemorySegment data = plain.data();
        long n = PrimitiveWorkload.size(dims);
        for (long i = 0; i < n; i++) {
            data.setAtIndex(ValueLayout.JAVA_FLOAT, i, TestData.value(i, offset));
        }
        if (wanted.sameLayout(plainDesc)) {
            return plain;
        }
        Memory chosen = own(owned, Memory.allocate(wanted, engine));
        try (PrimitiveDesc rpd = PrimitiveDesc.reorder(engine, plainDesc, wanted, null);
             Primitive reorder = new Primitive(rpd);
             ExecArgs ra = new ExecArgs(2).set(Arg.FROM, plain).set(Arg.TO, chosen)) {
            reorder.execute(stream, ra);
        }
        return chosen;
    }

    static double checksum(MemorySegment floats) {
        double sum = 0;
        long n = floats.byteSize() / 4;
        for (long i = 0; i < n; i++) {
            sum += floats.getAtIndex(ValueLayout.JAVA_FLOAT, i);
        }
        return sum;
    }
}
