package dev.deepnet.bench.peers;

import dev.deepnet.dnnl.Dnnl;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.Locale;

/**
 * The primitive workloads through deepnet's {@link Ops}, the calls a network's layers make:
 * plain row-major tensors in and out. On {@code --backend onednn} ({@code ops} in the table) that
 * includes today's per-call reorders into and out of the layouts oneDNN chose for convolutions
 * (a known cost the execution engine removes); on {@code --backend reference} ({@code ref}) it is
 * the plain-Java loops.
 */
public final class OpsPrimitivePeer {
    private OpsPrimitivePeer() {}

    public static void main(String[] args) {
        PeerArgs a = PeerArgs.parse(args);
        Backend backend = Backend.valueOf(a.string("backend", "onednn").toUpperCase(Locale.ROOT));
        String peer = backend == Backend.REFERENCE ? "ref" : "ops";
        if (a.workload().equals("probe")) {
            try (Ops ops = backend.newOps()) {
                Report probe = Report.probe(peer).put("backend", ops.name()).put("java", Runtime.version().toString());
                if (backend == Backend.ONEDNN) {
                    probe.put("onednn", Dnnl.version().toString()).put("lib", LoadedLibraries.matching("libdnnl"));
                }
                probe.print();
            }
            return;
        }
        run(peer, backend, PrimitiveWorkload.of(a.workload()), Measure.from(a));
    }

    private static Tensor filled(long[] dims, long offset) {
        float[] values = new float[(int) PrimitiveWorkload.size(dims)];
        for (int i = 0; i < values.length; i++) {
            values[i] = TestData.value(i, offset);
        }
        return Tensor.of(Shape.of(dims), values);
    }

    private static void run(String peer, Backend backend, PrimitiveWorkload w, Measure measure) {
        long setupStart = System.nanoTime();
        try (Ops ops = backend.newOps();
             Tensor x = filled(w.src, TestData.SRC);
             Tensor weights = w.weights == null ? null : filled(w.weights, TestData.WEIGHTS);
             Tensor bias = w.isConv() ? filled(new long[] {w.weights[0]}, TestData.BIAS) : null;
             Tensor y = Tensor.allocate(Shape.of(w.dst()))) {
            Conv2dSpec conv = w.isConv() ? Conv2dSpec.of(w.stride, w.pad) : null;
            Runnable call = switch (w) {
                case CONV_ALEXNET1, CONV_LENET -> () -> ops.conv2dForward(conv, x, weights, bias, y);
                case MATMUL_1024 -> () -> ops.matmul(x, weights, y);
                case RELU_10 -> () -> ops.activationForward(Activation.RELU, x, y);
            };
            double setupMicros = (System.nanoTime() - setupStart) / 1e3;
            Measure.Result r = measure.run(call);
            double sum = 0;
            for (long i = 0; i < y.size(); i++) {
                sum += y.getFlat(i);
            }
            // Ops creates its primitive (and reorders) inside the first call: first_us includes creation.
            Report report = Report.result(peer, w.id()).put("setup_us", setupMicros).put("create_us", "in-first-call");
            r.addTo(report);
            report.put("checksum", sum).put("impl", ops.name())
                    .put("lib", backend == Backend.ONEDNN ? LoadedLibraries.matching("libdnnl") : "-").print();
        }
    }
}
