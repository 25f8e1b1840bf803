package dev.deepnet.bench.peers;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The JNI peer of the primitive table: oneDNN's C API through JavaCPP's presets
 * ({@code org.bytedeco:dnnl}), which load their own copy of libdnnl. The same calls as
 * dnnl_peer.c and {@link FfmPrimitivePeer}, in the same order; each timed call is
 * {@code dnnl_primitive_execute} plus {@code dnnl_stream_wait}, statuses checked.
 *
 * <p>Runs in a JVM of its own (scripts/bench-peers puts only target/classes and the JavaCPP jars
 * on its class path): it must not touch a deepnet class that would load deepnet's libdnnl too.
 * Nothing is freed explicitly: the process ends after one measurement.
 */
public final class JniPrimitivePeer {
    private JniPrimitivePeer() {}

    /** Keeps the allocations behind aligned views reachable, so JavaCPP does not free them. */
    private static final List<FloatPointer> KEEP = new ArrayList<>();

    public static void main(String[] args) throws java.io.IOException {
        PeerArgs a = PeerArgs.parse(args);
        if (a.workload().equals("probe")) {
            dnnl_version_t v = dnnl_version();
            dnnl_engine engine = new dnnl_engine();
            check(dnnl_engine_create(engine, dnnl_cpu, 0), "dnnl_engine_create");
            Report.probe("jni").put("onednn", v.major() + "." + v.minor() + "." + v.patch() + "(" + v.hash().getString() + ")")
                    .put("isa", isaName(dnnl_get_effective_cpu_isa())).put("lib", LoadedLibraries.matching("libdnnl"))
                    .put("jni", LoadedLibraries.matching("libjnidnnl")).put("gomp", LoadedLibraries.matching("libgomp"))
                    .put("javacpp", Loader.getVersion()).put("cache", String.valueOf(Loader.getCacheDir()))
                    .put("java", Runtime.version().toString()).print();
            return;
        }
        run(PrimitiveWorkload.of(a.workload()), Measure.from(a));
    }

    static String isaName(int isa) {
        if (isa == dnnl_cpu_isa_avx10_1_512_amx_fp16) {
            return "AVX10_1_512_AMX_FP16";
        } else if (isa == dnnl_cpu_isa_avx10_1_512_amx) {
            return "AVX10_1_512_AMX";
        } else if (isa == dnnl_cpu_isa_avx10_1_512) {
            return "AVX10_1_512";
        } else if (isa == dnnl_cpu_isa_avx512_core_bf16) {
            return "AVX512_CORE_BF16";
        } else if (isa == dnnl_cpu_isa_avx512_core_vnni) {
            return "AVX512_CORE_VNNI";
        } else if (isa == dnnl_cpu_isa_avx512_core) {
            return "AVX512_CORE";
        } else if (isa == dnnl_cpu_isa_avx2_vnni_2) {
            return "AVX2_VNNI_2";
        } else if (isa == dnnl_cpu_isa_avx2_vnni) {
            return "AVX2_VNNI";
        } else if (isa == dnnl_cpu_isa_avx2) {
            return "AVX2";
        }
        return "isa-" + isa;
    }

    private static void check(int status, String function) {
        if (status != dnnl_success) {
            throw new IllegalStateException(function + " returned status " + status);
        }
    }

    private static dnnl_memory_desc desc(long[] dims, int tag) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        check(dnnl_memory_desc_create_with_tag(md, dims.length, dims, dnnl_f32, tag), "dnnl_memory_desc_create_with_tag");
        return md;
    }

    /** The layout the primitive expects for execution argument {@code arg}, as FFM's {@code PrimitiveDesc.argDesc} asks. */
    private static dnnl_memory_desc argDesc(dnnl_primitive_desc pd, int arg) {
        return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    }

    private static int plainTag(int ndims) {
        return switch (ndims) {
            case 1 -> dnnl_a;
            case 2 -> dnnl_ab;
            case 4 -> dnnl_abcd;
            default -> throw new IllegalArgumentException(ndims + " dims");
        };
    }

    /** A zeroed, 64-byte aligned buffer of {@code bytes} bytes. */
    private static FloatPointer aligned(long bytes) {
        long floats = (bytes + 3) / 4;
        FloatPointer raw = new FloatPointer(floats + 16);
        KEEP.add(raw);
        long misaligned = raw.address() % 64;
        FloatPointer view = raw.getPointer(misaligned == 0 ? 0 : (64 - misaligned) / 4);
        view.capacity(floats).limit(floats);
        view.put(new float[(int) floats]);
        return view;
    }

    private record Mem(dnnl_memory memory, FloatPointer data, long floats) {}

    private static Mem memory(dnnl_memory_desc md, dnnl_engine engine) {
        long bytes = dnnl_memory_desc_get_size(md);
        FloatPointer data = aligned(bytes);
        dnnl_memory m = new dnnl_memory();
        check(dnnl_memory_create(m, md, engine, data), "dnnl_memory_create");
        return new Mem(m, data, bytes / 4);
    }

    private static dnnl_primitive primitive(dnnl_primitive_desc pd) {
        dnnl_primitive p = new dnnl_primitive();
        check(dnnl_primitive_create(p, pd), "dnnl_primitive_create");
        return p;
    }

    private static void execute(dnnl_primitive p, dnnl_stream stream, dnnl_exec_arg_t args, int count) {
        check(dnnl_primitive_execute(p, stream, count, args), "dnnl_primitive_execute");
        check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    }

    private static void set(dnnl_exec_arg_t args, int i, int arg, dnnl_memory memory) {
        args.getPointer(i).arg(arg).memory(memory);
    }

    /** The test data in the layout {@code wanted}: filled plain, reordered once where it differs. */
    private static dnnl_memory input(dnnl_engine engine, dnnl_stream stream, long[] dims, dnnl_memory_desc wanted, long offset) {
        dnnl_memory_desc plainMd = desc(dims, plainTag(dims.length));
        Mem plain = memory(plainMd, engine);
        int n = (int) PrimitiveWorkload.size(dims);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = TestData.value(i, offset);
        }
        plain.data().put(values);
        if (dnnl_memory_desc_equal(plainMd, wanted) != 0) {
            return plain.memory();
        }
        Mem target = memory(wanted, engine);
        dnnl_primitive_desc rpd = new dnnl_primitive_desc();
        check(dnnl_reorder_primitive_desc_create(rpd, plainMd, engine, wanted, engine, (dnnl_primitive_attr) null),
                "dnnl_reorder_primitive_desc_create");
        dnnl_primitive reorder = primitive(rpd);
        dnnl_exec_arg_t ra = new dnnl_exec_arg_t(2);
        set(ra, 0, DNNL_ARG_FROM, plain.memory());
        set(ra, 1, DNNL_ARG_TO, target.memory());
        execute(reorder, stream, ra, 2);
        return target.memory();
    }

    /** The workload's primitive descriptor, created as dnnl_peer.c and FfmPrimitivePeer create it. */
    private static dnnl_primitive_desc create(PrimitiveWorkload w, dnnl_engine engine) {
        long[] dst = w.dst();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        switch (w) {
            case CONV_ALEXNET1, CONV_LENET -> {
                long s = w.stride;
                long p = w.pad;
                check(dnnl_convolution_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_convolution_direct,
                        desc(w.src, dnnl_format_tag_any), desc(w.weights, dnnl_format_tag_any), desc(new long[] {w.weights[0]}, dnnl_x),
                        desc(dst, dnnl_format_tag_any), new long[] {s, s}, new long[] {0, 0}, new long[] {p, p}, new long[] {p, p},
                        (dnnl_primitive_attr) null), "dnnl_convolution_forward_primitive_desc_create");
            }
            case MATMUL_1024 -> {
                dnnl_memory_desc md = desc(w.src, dnnl_ab);
                check(dnnl_matmul_primitive_desc_create(pd, engine, md, md, null, md, (dnnl_primitive_attr) null),
                        "dnnl_matmul_primitive_desc_create");
            }
            case RELU_10 -> {
                dnnl_memory_desc md = desc(w.src, dnnl_a);
                check(dnnl_eltwise_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_eltwise_relu, md, md, 0f, 0f,
                        (dnnl_primitive_attr) null), "dnnl_eltwise_forward_primitive_desc_create");
            }
        }
        return pd;
    }

    private static void run(PrimitiveWorkload w, Measure measure) {
        long setupStart = System.nanoTime();
        dnnl_engine engine = new dnnl_engine();
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "dnnl_engine_create");
        dnnl_stream stream = new dnnl_stream();
        check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "dnnl_stream_create");
        long createStart = System.nanoTime();
        dnnl_primitive_desc pd = create(w, engine);
        dnnl_primitive primitive = primitive(pd);
        double createMicros = (System.nanoTime() - createStart) / 1e3;

        dnnl_exec_arg_t args = new dnnl_exec_arg_t(4);
        int count = 0;
        set(args, count++, DNNL_ARG_SRC, input(engine, stream, w.src, argDesc(pd, DNNL_ARG_SRC), TestData.SRC));
        if (w.weights != null) {
            set(args, count++, DNNL_ARG_WEIGHTS,
                    input(engine, stream, w.weights, argDesc(pd, DNNL_ARG_WEIGHTS), TestData.WEIGHTS));
        }
        if (w.isConv()) {
            set(args, count++, DNNL_ARG_BIAS, input(engine, stream, new long[] {w.weights[0]},
                    argDesc(pd, DNNL_ARG_BIAS), TestData.BIAS));
        }
        Mem out = memory(argDesc(pd, DNNL_ARG_DST), engine);
        set(args, count++, DNNL_ARG_DST, out.memory());
        double setupMicros = (System.nanoTime() - setupStart) / 1e3;

        int n = count;
        Measure.Result r = measure.run(() -> execute(primitive, stream, args, n));
        // The same primitive again: what creation costs once oneDNN's primitive cache has it.
        long again = System.nanoTime();
        dnnl_primitive_desc pd2 = create(w, engine);
        dnnl_primitive p2 = primitive(pd2);
        double recreateMicros = (System.nanoTime() - again) / 1e3;
        check(dnnl_primitive_destroy(p2), "dnnl_primitive_destroy");
        check(dnnl_primitive_desc_destroy(pd2), "dnnl_primitive_desc_destroy");
        float[] result = new float[(int) out.floats()];
        out.data().get(result);
        double sum = 0;
        for (float f : result) {
            sum += f;
        }
        PointerPointer<BytePointer> impl = new PointerPointer<>(1);
        check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, impl), "dnnl_primitive_desc_query");
        Report report = Report.result("jni", w.id()).put("setup_us", setupMicros).put("create_us", createMicros)
                .put("recreate_us", recreateMicros);
        r.addTo(report);
        report.put("checksum", sum).put("impl", impl.get(BytePointer.class, 0).getString())
                .put("lib", LoadedLibraries.matching("libdnnl")).print();
    }
}
