package dev.deepnet.ops;

import dev.deepnet.dnnl.Algorithm;
import dev.deepnet.dnnl.Arg;
import dev.deepnet.dnnl.CpuIsa;
import dev.deepnet.dnnl.Dnnl;
import dev.deepnet.dnnl.DataType;
import dev.deepnet.dnnl.Engine;
import dev.deepnet.dnnl.FormatTag;
import dev.deepnet.dnnl.Memory;
import dev.deepnet.dnnl.MemoryDesc;
import dev.deepnet.dnnl.OpenMp;
import dev.deepnet.dnnl.PrimitiveAttr;
import dev.deepnet.dnnl.PrimitiveDesc;
import dev.deepnet.dnnl.PropKind;
import dev.deepnet.dnnl.Stream;
import dev.deepnet.ops.OneDnnKernel.PortSpec;
import dev.deepnet.tensor.Layout;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The ops on oneDNN. Each distinct call — operation, shapes, parameters — builds its primitive
 * once ({@link OneDnnKernel}) and keeps it: calling again with the same shapes creates nothing.
 * Convolutions and dense layers describe their memories with {@code format_tag any} so oneDNN
 * picks its preferred (often blocked) layouts; the kernel reorders only where that differs from
 * the tensors' plain layout. Forward passes that no backward pass follows use
 * {@code forward_inference}; those that keep a workspace use {@code forward_training}.
 * Calls too small to pay for a native call (dense, element-wise and softmax below
 * {@link #DEFAULT_PLAIN_JAVA_BELOW_FLOPS} operations, by default) run as plain Java loops instead. Not thread-safe: the cached kernels hold per-call state; use one
 * instance per thread.
 */
public final class OneDnnOps extends Ops {

    private final Engine engine;
    private final Stream stream;
    /**
     * The layout pooling and LRN run in: channels blocked by the vector width. oneDNN's jit
     * kernels for them need it; on plain NCHW it falls back to slow loops (AlexNet's first max
     * pool, N=32: 47 ms on simple_nchw, 5 ms on jit:avx2 with nChw8c, plus about 5 ms of reorders).
     */
    private final FormatTag blocked;
    private final Map<List<Object>, OneDnnKernel> kernels = new HashMap<>();
    /**
     * The most primitives an instance keeps by default. A plan holds a few per layer (AlexNet's
     * training plan about 50); one oneDNN instance fed 300 batch sizes once kept 3,300 (589 MiB).
     */
    public static final int DEFAULT_MAX_KERNELS = 512;
    private final int maxKernels;

    /**
     * Dense, element-wise and softmax calls below this many floating-point operations run as plain
     * Java loops by default ({@link SmallCallKernels}, which allocate nothing; softmax, multiply and
     * sum on {@link ReferenceOps}' loops): a oneDNN call costs about 1 µs however small (more with
     * an OpenMP team to wake), which plain loops beat below a few thousand operations. The
     * lecture's tiny nets (10-3-10, 5 x 10 sigmoid) then run entirely in Java.
     */
    public static final long DEFAULT_PLAIN_JAVA_BELOW_FLOPS = 4096;

    /** Threads every call of this instance runs with; 0: whatever the calling thread is set to (OMP_NUM_THREADS by default). */
    private final int threads;
    /** Dense, element-wise and softmax calls with fewer operations than this run in Java. */
    private final long plainJavaBelowFlops;
    private final ReferenceOps javaLoops = new ReferenceOps(); // softmax, multiply, sum and matmul of small calls

    /** Ops that run with the calling thread's OpenMP setting: by default every core, or OMP_NUM_THREADS. */
    public OneDnnOps() {
        this(0);
    }

    /**
     * Ops whose every call runs oneDNN on {@code threads} threads (0: the calling thread's
     * setting), whichever thread calls: a plan on these ops uses at most that many cores. Needs
     * oneDNN on OpenMP ({@link OpenMp#isAvailable()}), as bundled.
     */
    public OneDnnOps(int threads) {
        this(threads, DEFAULT_PLAIN_JAVA_BELOW_FLOPS);
    }

    /**
     * Ops on {@code threads} threads whose dense, element-wise and softmax calls below
     * {@code plainJavaBelowFlops} operations run as plain Java loops (0: every call on oneDNN,
     * as the tests of oneDNN's numerics need).
     */
    public OneDnnOps(int threads, long plainJavaBelowFlops) {
        this(threads, plainJavaBelowFlops, DEFAULT_MAX_KERNELS);
    }

    /**
     * As {@link #OneDnnOps(int, long)}, keeping at most {@code maxKernels} primitives: past that,
     * the least recently run one is closed (and built again if it is needed again), so an instance
     * fed ever new shapes — a service's ragged batch sizes — holds bounded memory.
     */
    public OneDnnOps(int threads, long plainJavaBelowFlops, int maxKernels) {
        if (maxKernels < 1) {
            throw new IllegalArgumentException("maxKernels must be >= 1, got " + maxKernels);
        }
        this.maxKernels = maxKernels;
        if (plainJavaBelowFlops < 0) {
            throw new IllegalArgumentException("plainJavaBelowFlops must be >= 0, got " + plainJavaBelowFlops);
        }
        this.plainJavaBelowFlops = plainJavaBelowFlops;
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0: the calling thread's setting), got " + threads);
        }
        if (threads > 0 && !OpenMp.isAvailable()) {
            throw new UnsupportedOperationException("this oneDNN does not run on OpenMP (" + Dnnl.version().cpuRuntime()
                    + "), so its thread count cannot be set per Ops instance; use new OneDnnOps() or OMP_NUM_THREADS");
        }
        this.threads = threads;
        this.engine = Engine.cpu();
        this.stream = new Stream(engine);
        this.blocked = Dnnl.effectiveCpuIsa().ordinal() >= CpuIsa.AVX512_CORE.ordinal() ? FormatTag.ABCD16B : FormatTag.ABCD8B;
    }

    /** Whether a call of about {@code flops} operations is small enough for plain Java loops. */
    private boolean smallForJava(long flops) {
        return flops < plainJavaBelowFlops;
    }

    /** The thread count every call runs with; 0 when calls take the calling thread's setting. */
    public int threads() {
        return threads;
    }

    /**
     * OpenMP's thread count is a per-thread setting that oneDNN reads when it creates and when it
     * runs a primitive: set it on every call, since other code may have changed it in between.
     */
    @Override
    protected void prepareThread() {
        if (threads > 0) {
            OpenMp.setThreadsForThisThread(threads);
        }
    }

    @Override
    public String name() {
        return "onednn";
    }

    /** Number of primitives built so far (a repeated call builds none). */
    public int kernelCount() {
        return kernels.size();
    }

    /**
     * Forward-training descriptors that backward descriptors take as hints, by key: descriptors
     * only, since no forward-training primitive of theirs ever executes (the forward pass of dense,
     * convolution, eltwise and softmax runs forward_inference kernels; oneDNN's f32 results are
     * the same).
     */
    private final Map<List<Object>, PrimitiveDesc> hints = new HashMap<>();

    private PrimitiveDesc hint(List<Object> key, Supplier<PrimitiveDesc> build) {
        PrimitiveDesc pd = hints.get(key);
        if (pd == null) {
            pd = build.get();
            if (hints.size() >= maxKernels) { // bounded like the kernels; a hint is only read while a kernel is built
                for (PrimitiveDesc old : hints.values()) {
                    old.close();
                }
                hints.clear();
            }
            hints.put(key, pd);
        }
        return pd;
    }

    private OneDnnKernel kernel(List<Object> key, Supplier<OneDnnKernel> build) {
        OneDnnKernel k = kernels.get(key);
        if (k == null) {
            k = build.get();
            if (kernels.size() >= maxKernels) {
                evictLeastRecentlyRun();
            }
            kernels.put(key, k);
        }
        return k;
    }

    /**
     * Closes the kernel run longest ago. Called only while building a new kernel, between calls'
     * executions: no kernel runs now, and the calls remembered by tensor are forgotten (they may
     * name the evicted kernel), as are the hints (rebuilt on demand).
     */
    private void evictLeastRecentlyRun() {
        Map.Entry<List<Object>, OneDnnKernel> oldest = null;
        for (Map.Entry<List<Object>, OneDnnKernel> e : kernels.entrySet()) {
            if (oldest == null || e.getValue().lastRun() < oldest.getValue().lastRun()) {
                oldest = e;
            }
        }
        if (oldest != null) {
            kernels.remove(oldest.getKey());
            evictedReorders += oldest.getValue().reordersRun();
            evictedWeightReorders += oldest.getValue().weightReordersRun();
            oldest.getValue().close();
        }
        recent.clear();
        recentCount = 0;
    }

    // Ids of the calls the memo below knows (with a parameter object, e.g. the conv spec, beside them).
    private static final int LINEAR_FWD = 1, LINEAR_BWD_DATA = 2, LINEAR_BWD_WEIGHTS = 3, CONV_FWD = 4, CONV_BWD_DATA = 5,
            CONV_BWD_WEIGHTS = 6, MAX_POOL_FWD = 7, MAX_POOL_FWD_TRAINING = 8, MAX_POOL_BWD = 9, AVG_POOL_FWD = 10,
            AVG_POOL_BWD = 11, ELTWISE_FWD = 12, ELTWISE_BWD = 13, SOFTMAX_FWD = 14, LOG_SOFTMAX_FWD = 15, SOFTMAX_BWD = 16,
            LOG_SOFTMAX_BWD = 17, LRN_FWD = 18, LRN_FWD_TRAINING = 19, LRN_BWD = 20, ADD = 21, MULTIPLY = 22, ACCUMULATE = 23,
            MATMUL = 24, REORDER = 25, BNORM_FWD_TRAINING = 26, BNORM_FWD = 27, BNORM_BWD = 28, BNORM_BWD_GLOBAL = 29, CLIP_FWD = 30,
            CLIP_BWD = 31;

    /**
     * A call made before with these very tensors: the kernel it needs and its tensors in port
     * order. A plan passes the same tensors at every step, so finding its calls here costs a hash
     * of the first tensor's identity and a few comparisons, and allocates nothing, where the kernel
     * map's lookup builds a key every time. Keyed by identity: a tensor's shape never changes, so
     * the same tensors mean the same kernel. Calls sharing a first tensor are chained.
     */
    private record RecentCall(int op, Object param, Tensor a, Tensor b, Tensor c, Tensor d, OneDnnKernel kernel, Tensor[] ports,
            RecentCall next) {
        boolean matches(int op, Object param, Tensor a, Tensor b, Tensor c, Tensor d) {
            return this.op == op && this.param == param && this.a == a && this.b == b && this.c == c && this.d == d;
        }
    }

    /** By first tensor; forgotten all at once past {@link #RECENT_CALLS} calls (tensors of closed plans must not pile up). */
    private final java.util.IdentityHashMap<Tensor, RecentCall> recent = new java.util.IdentityHashMap<>();
    private static final int RECENT_CALLS = 4096;
    private int recentCount;

    private RecentCall recall(int op, Object param, Tensor a, Tensor b, Tensor c, Tensor d) {
        for (RecentCall call = recent.get(a); call != null; call = call.next()) {
            if (call.matches(op, param, a, b, c, d)) {
                return call;
            }
        }
        return null;
    }

    private RecentCall remember(int op, Object param, Tensor a, Tensor b, Tensor c, Tensor d, OneDnnKernel kernel, Tensor... ports) {
        if (recentCount >= RECENT_CALLS) {
            recent.clear();
            recentCount = 0;
        }
        RecentCall call = new RecentCall(op, param, a, b, c, d, kernel, ports, recent.get(a));
        recent.put(a, call);
        recentCount++;
        return call;
    }

    private static MemoryDesc md(Shape shape, FormatTag tag) {
        return MemoryDesc.of(DataType.F32, tag, shape.dims());
    }

    private static MemoryDesc plain(Shape shape) {
        return OneDnnKernel.plainDesc(shape);
    }

    /** A descriptor of a tensor of this shape in its layout: row-major when {@code layout} is null. */
    private static MemoryDesc desc(Shape shape, Layout layout) {
        return layout == null ? plain(shape) : MemoryDesc.withTag(DataType.F32, layout.tag(), shape.dims());
    }

    /**
     * A tensor's own layout when it has one (a plan's buffer, in the layout the forward pass chose),
     * else {@code any}: a primitive then works where its tensors already are.
     */
    private static MemoryDesc anyOr(Shape shape, Layout layout) {
        return layout != null ? desc(shape, layout) : md(shape, FormatTag.ANY);
    }

    /** For kernel keys: a tensor's layout, with row-major named (List.of takes no null). */
    private static Object key(Layout layout) {
        return layout == null ? "row-major" : layout;
    }

    /** A tensor port in the tensor's layout. */
    private static PortSpec in(int arg, Tensor t) {
        return PortSpec.of(arg, t, false);
    }

    private static PortSpec out(int arg, Tensor t) {
        return PortSpec.of(arg, t, true);
    }

    private static PortSpec port(int arg, Shape shape, Layout layout, boolean output) {
        return new PortSpec(arg, shape, output, null, layout);
    }

    /**
     * The layout a primitive chose, as a {@link Layout} a plan can allocate in, or null when it is
     * row-major or no format tag names it exactly (the kernel then converts, as for any row-major tensor).
     */
    static Layout layoutOf(MemoryDesc chosen) {
        String tag = chosen.formatTag();
        if (tag == null || tag.equals(plainTag(chosen.ndims()))) {
            return null;
        }
        try (MemoryDesc named = MemoryDesc.withTag(DataType.F32, tag, chosen.dims())) {
            return named.sameLayout(chosen) ? new Layout(tag, chosen.sizeInBytes()) : null;
        } catch (IllegalArgumentException e) {
            return null; // a layout oneDNN describes but names with no tag
        }
    }

    private static String plainTag(int ndims) {
        return "abcdefghijkl".substring(0, ndims);
    }

    @Override
    public boolean takesLayouts() {
        return true;
    }

    @Override
    protected Layout sizedLayout(Layout like, Shape shape) {
        try (MemoryDesc d = desc(shape, like)) {
            return new Layout(like.tag(), d.sizeInBytes());
        }
    }

    /**
     * Conversions of activations and gradients run so far: reorders of a tensor into or out of a
     * primitive's preferred layout, and {@link #reorder} calls. A plan that keeps its buffers in
     * the primitives' layouts runs them only at its edges and where two layers disagree.
     */
    public long reordersRun() {
        long n = evictedReorders;
        for (OneDnnKernel k : kernels.values()) {
            n += k.reordersRun();
        }
        return n;
    }

    /** Conversions of weights, biases and their gradients run so far (parameters are kept row-major). */
    public long weightReordersRun() {
        long n = evictedWeightReorders;
        for (OneDnnKernel k : kernels.values()) {
            n += k.weightReordersRun();
        }
        return n;
    }

    private long evictedReorders;
    private long evictedWeightReorders;

    private static PortSpec in(int arg, Shape shape) {
        return new PortSpec(arg, shape, false);
    }

    private static PortSpec out(int arg, Shape shape) {
        return new PortSpec(arg, shape, true);
    }

    /** The tensors that are present, in order: optional ones (a bias) are passed as null. */
    private static Tensor[] present(Tensor... tensors) {
        return java.util.Arrays.stream(tensors).filter(java.util.Objects::nonNull).toArray(Tensor[]::new);
    }

    /**
     * Ports of a forward op with an optional bias: src, weights, [bias], dst; the bias row-major,
     * one value per output ({@code outputs}).
     */
    private static List<PortSpec> forwardPorts(PortSpec src, PortSpec weights, long outputs, boolean bias, PortSpec dst) {
        List<PortSpec> ports = new ArrayList<>(List.of(src, weights));
        if (bias) {
            ports.add(in(Arg.BIAS, Shape.of(outputs)));
        }
        ports.add(dst);
        return ports;
    }

    /** Ports of a backward-weights op with an optional bias: src, diff_dst, diff_weights, [diff_bias]. */
    private static List<PortSpec> backwardWeightsPorts(PortSpec src, PortSpec diffDst, Shape w, boolean bias) {
        return backwardWeightsPorts(src, diffDst, w, w.dim(0), bias);
    }

    private static List<PortSpec> backwardWeightsPorts(PortSpec src, PortSpec diffDst, Shape w, long outputs, boolean bias) {
        List<PortSpec> ports = new ArrayList<>(List.of(src, diffDst, out(Arg.DIFF_WEIGHTS, w)));
        if (bias) {
            ports.add(out(Arg.DIFF_BIAS, Shape.of(outputs)));
        }
        return ports;
    }

    // ---------------------------------------------------------------- dense

    /**
     * Dense weights stay in their plain (out, in) layout: with {@code any}, oneDNN 3.8 picks a
     * blocked layout (AB16b64a on AVX-512) and every call would reorder the whole matrix first —
     * 13 ms of AlexNet's 4096 x 9216 fc6 per forward pass, a third of its batch-1 latency, where the
     * plain-weights implementation costs next to nothing more.
     */
    private static MemoryDesc denseWeights(Shape w) {
        return md(w, FormatTag.AB);
    }

    private PrimitiveDesc linearForwardPd(PropKind prop, Shape x, Shape w, boolean bias) {
        return linearForwardPd(prop, x, w, bias, Activation.LINEAR);
    }

    /** With {@code f} fused as a post-op unless it is LINEAR. */
    private PrimitiveDesc linearForwardPd(PropKind prop, Shape x, Shape w, boolean bias, Activation f) {
        try (MemoryDesc src = md(x, FormatTag.ANY); MemoryDesc wei = denseWeights(w);
             MemoryDesc b = bias ? md(Shape.of(w.dim(0)), FormatTag.A) : null;
             MemoryDesc dst = md(Shape.of(x.dim(0), w.dim(0)), FormatTag.ANY); PrimitiveAttr attr = fused(f)) {
            return PrimitiveDesc.innerProductForward(engine, prop, src, wei, b, dst, attr);
        }
    }

    /** Attributes that fuse {@code f} into a primitive's output, or null for LINEAR (nothing to fuse). */
    private static PrimitiveAttr fused(Activation f) {
        if (f == Activation.LINEAR) {
            return null;
        }
        PrimitiveAttr attr = new PrimitiveAttr();
        try {
            return attr.eltwisePostOp(forwardAlgorithm(f), alpha(f), 0f);
        } catch (RuntimeException | Error e) {
            attr.close();
            throw e;
        }
    }

    /** Tells the memo's calls with a fused activation apart: one id per operation and activation. */
    private static int withActivation(int op, Activation f) {
        return op | (f.ordinal() + 1) << 8;
    }

    /** The forward-training descriptor backward passes take as their hint (a descriptor only: it never executes). */
    private PrimitiveDesc linearHint(Shape x, Shape w) {
        return hint(List.of("linear.fwd.training", x, w), () -> linearForwardPd(PropKind.FORWARD_TRAINING, x, w, false));
    }

    @Override
    protected void doLinearForward(Tensor x, Tensor w, Tensor b, Tensor y) {
        doLinearForward(x, w, b, y, Activation.LINEAR);
    }

    @Override
    protected void doLinearForward(Tensor x, Tensor w, Tensor b, Tensor y, Activation f) {
        if (smallForJava(2 * x.size() * w.shape().dim(0))) {
            SmallCallKernels.linearForward(x, w, b, y);
            if (f != Activation.LINEAR) {
                SmallCallKernels.activationForward(f, y, y);
            }
            return;
        }
        int op = withActivation(LINEAR_FWD, f);
        RecentCall call = recall(op, null, x, w, b, y);
        if (call == null) {
            Shape xs = x.shape(), ws = w.shape();
            boolean bias = b != null;
            call = remember(op, null, x, w, b, y, kernel(List.of("linear.fwd", xs, ws, bias, f), () -> new OneDnnKernel(engine,
                    linearForwardPd(PropKind.FORWARD_INFERENCE, xs, ws, bias, f),
                    forwardPorts(in(Arg.SRC, xs), in(Arg.WEIGHTS, ws), ws.dim(0), bias, out(Arg.DST, y.shape())))), present(x, w, b, y));
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doLinearBackwardData(Tensor dy, Tensor w, Tensor dx) {
        if (smallForJava(2 * dy.size() * w.shape().dim(1))) {
            SmallCallKernels.linearBackwardData(dy, w, dx);
            return;
        }
        RecentCall call = recall(LINEAR_BWD_DATA, null, dy, w, dx, null);
        if (call != null) {
            call.kernel().run(stream, 0, null, call.ports());
            return;
        }
        Shape ws = w.shape(), xs = dx.shape(), ys = dy.shape();
        OneDnnKernel k = kernel(List.of("linear.bwd.data", xs, ws), () -> {
            PrimitiveDesc hint = linearHint(xs, ws);
            try (MemoryDesc dsrc = md(xs, FormatTag.ANY); MemoryDesc wei = denseWeights(ws);
                 MemoryDesc ddst = md(ys, FormatTag.ANY)) {
                return new OneDnnKernel(engine, PrimitiveDesc.innerProductBackwardData(engine, dsrc, wei, ddst, hint, null),
                        List.of(in(Arg.DIFF_DST, ys), in(Arg.WEIGHTS, ws), out(Arg.DIFF_SRC, xs)));
            }
        });
        remember(LINEAR_BWD_DATA, null, dy, w, dx, null, k, dy, w, dx).kernel().run(stream, 0, null, dy, w, dx);
    }

    @Override
    protected void doLinearBackwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db) {
        if (smallForJava(2 * x.size() * dy.shape().dim(1))) {
            SmallCallKernels.linearBackwardWeights(x, dy, dw, db);
            return;
        }
        RecentCall call = recall(LINEAR_BWD_WEIGHTS, null, x, dy, dw, db);
        if (call != null) {
            call.kernel().run(stream, 0, null, call.ports());
            return;
        }
        Shape xs = x.shape(), ws = dw.shape(), ys = dy.shape();
        boolean bias = db != null;
        OneDnnKernel k = kernel(List.of("linear.bwd.weights", xs, ws, bias), () -> {
            PrimitiveDesc hint = linearHint(xs, ws);
            try (MemoryDesc src = md(xs, FormatTag.ANY); MemoryDesc dwei = denseWeights(ws);
                 MemoryDesc dbias = bias ? md(Shape.of(ws.dim(0)), FormatTag.A) : null;
                 MemoryDesc ddst = md(ys, FormatTag.ANY)) {
                return new OneDnnKernel(engine, PrimitiveDesc.innerProductBackwardWeights(engine, src, dwei, dbias, ddst, hint, null),
                        backwardWeightsPorts(in(Arg.SRC, xs), in(Arg.DIFF_DST, ys), ws, bias));
            }
        });
        call = remember(LINEAR_BWD_WEIGHTS, null, x, dy, dw, db, k, present(x, dy, dw, db));
        k.run(stream, 0, null, call.ports());
    }

    @Override
    protected void doMatmul(Tensor a, Tensor b, Tensor c) {
        if (smallForJava(2 * a.size() * b.shape().dim(1))) {
            javaLoops.doMatmul(a, b, c);
            return;
        }
        Shape as = a.shape(), bs = b.shape(), cs = c.shape();
        OneDnnKernel k = kernel(List.of("matmul", as, bs), () -> {
            try (MemoryDesc src = plain(as); MemoryDesc wei = plain(bs); MemoryDesc dst = plain(cs)) {
                return new OneDnnKernel(engine, PrimitiveDesc.matmul(engine, src, wei, null, dst, null),
                        List.of(in(Arg.SRC, as), in(Arg.WEIGHTS, bs), out(Arg.DST, cs)));
            }
        });
        k.run(stream, 0, null, a, b, c);
    }

    // ---------------------------------------------------------------- convolution

    private static long[] strides(Conv2dSpec s) {
        return new long[] {s.strideH(), s.strideW()};
    }

    // oneDNN counts dilation as the gap between kernel taps: 0 is dense, so it is PyTorch's minus one.
    private static long[] dilates(Conv2dSpec s) {
        return new long[] {s.dilationH() - 1, s.dilationW() - 1};
    }

    private static long[] padLeft(Conv2dSpec s) {
        return new long[] {s.padTop(), s.padLeft()};
    }

    private static long[] padRight(Conv2dSpec s) {
        return new long[] {s.padBottom(), s.padRight()};
    }

    /**
     * The weights as oneDNN sees them: (O, C, kH, kW), or with g groups (g, O / g, C / g, kH, kW) —
     * the same row-major memory as deepnet's (O, C / g, kH, kW) (oneDNN's goihw).
     */
    private static Shape convWeights(Conv2dSpec s, Shape w) {
        int g = s.groups();
        return g == 1 ? w : Shape.of(g, w.dim(0) / g, w.dim(1), w.dim(2), w.dim(3));
    }

    private PrimitiveDesc convForwardPd(PropKind prop, Conv2dSpec s, Shape x, Shape w, boolean bias) {
        return convForwardPd(prop, s, x, w, bias, null, Activation.LINEAR);
    }

    /** Output in {@code yLayout} when given (the layout a plan keeps it in), else where oneDNN likes; {@code f} fused. */
    private PrimitiveDesc convForwardPd(PropKind prop, Conv2dSpec s, Shape x, Shape w, boolean bias, Layout yLayout, Activation f) {
        Shape y = s.outputShape(x, w);
        try (MemoryDesc src = md(x, FormatTag.ANY); MemoryDesc wei = md(convWeights(s, w), FormatTag.ANY);
             MemoryDesc b = bias ? md(Shape.of(w.dim(0)), FormatTag.A) : null; MemoryDesc dst = anyOr(y, yLayout);
             PrimitiveAttr attr = fused(f)) {
            return PrimitiveDesc.convolutionForward(engine, prop, Algorithm.CONVOLUTION_DIRECT, src, wei, b, dst, strides(s),
                    dilates(s), padLeft(s), padRight(s), attr);
        }
    }

    private PrimitiveDesc convHint(Conv2dSpec s, Shape x, Shape w) {
        return hint(List.of("conv.fwd.training", s, x, w), () -> convForwardPd(PropKind.FORWARD_TRAINING, s, x, w, true));
    }

    @Override
    protected Layout preferredConv2dWeightsLayout(Conv2dSpec spec, Shape x, Shape w, boolean bias, Layout y, Activation f) {
        if (spec.groups() > 1) {
            return null; // oneDNN's grouped weights are 5-D, the parameter 4-D: converted per call instead
        }
        try (PrimitiveDesc pd = convForwardPd(PropKind.FORWARD_INFERENCE, spec, x, w, bias, y, f)) {
            return layoutOf(pd.weightsDesc()); // the same descriptor doConv2dForward builds for these tensors
        }
    }

    @Override
    protected Layout preferredConv2dOutputLayout(Conv2dSpec spec, Shape x, Shape w, boolean bias) {
        try (PrimitiveDesc pd = convForwardPd(PropKind.FORWARD_INFERENCE, spec, x, w, bias)) {
            return layoutOf(pd.dstDesc());
        }
    }

    @Override
    protected void doConv2dForward(Conv2dSpec spec, Tensor x, Tensor w, Tensor b, Tensor y) {
        doConv2dForward(spec, x, w, b, y, Activation.LINEAR);
    }

    @Override
    protected void doConv2dForward(Conv2dSpec spec, Tensor x, Tensor w, Tensor b, Tensor y, Activation f) {
        int op = withActivation(CONV_FWD, f);
        RecentCall call = recall(op, spec, x, w, b, y);
        if (call == null) {
            Shape xs = x.shape(), ws = w.shape();
            boolean bias = b != null;
            // Weights packed by a plan are in their tensor's layout; row-major ones as oneDNN sees them (grouped: 5-D).
            PortSpec weights = w.layout() != null ? in(Arg.WEIGHTS, w) : in(Arg.WEIGHTS, convWeights(spec, ws));
            call = remember(op, spec, x, w, b, y, kernel(List.of("conv.fwd", spec, xs, ws, bias, key(x.layout()), key(w.layout()),
                    key(y.layout()), f), () -> new OneDnnKernel(engine, convForwardPd(PropKind.FORWARD_INFERENCE, spec, xs, ws, bias,
                            y.layout(), f), forwardPorts(in(Arg.SRC, x), weights, ws.dim(0), bias, out(Arg.DST, y)))), present(x, w, b, y));
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doConv2dBackwardData(Conv2dSpec spec, Tensor dy, Tensor w, Tensor dx) {
        RecentCall call = recall(CONV_BWD_DATA, spec, dy, w, dx, null);
        if (call != null) {
            call.kernel().run(stream, 0, null, call.ports());
            return;
        }
        Shape xs = dx.shape(), ws = w.shape(), ys = dy.shape();
        OneDnnKernel k = kernel(List.of("conv.bwd.data", spec, xs, ws, key(dy.layout()), key(dx.layout())), () -> {
            PrimitiveDesc hint = convHint(spec, xs, ws);
            Shape wg = convWeights(spec, ws);
            try (MemoryDesc dsrc = anyOr(xs, dx.layout()); MemoryDesc wei = md(wg, FormatTag.ANY);
                 MemoryDesc ddst = anyOr(ys, dy.layout())) {
                return new OneDnnKernel(engine, PrimitiveDesc.convolutionBackwardData(engine, Algorithm.CONVOLUTION_DIRECT,
                        dsrc, wei, ddst, strides(spec), dilates(spec), padLeft(spec), padRight(spec), hint, null),
                        List.of(in(Arg.DIFF_DST, dy), in(Arg.WEIGHTS, wg), out(Arg.DIFF_SRC, dx)));
            }
        });
        remember(CONV_BWD_DATA, spec, dy, w, dx, null, k, dy, w, dx).kernel().run(stream, 0, null, dy, w, dx);
    }

    @Override
    protected void doConv2dBackwardWeights(Conv2dSpec spec, Tensor x, Tensor dy, Tensor dw, Tensor db) {
        RecentCall call = recall(CONV_BWD_WEIGHTS, spec, x, dy, dw, db);
        if (call != null) {
            call.kernel().run(stream, 0, null, call.ports());
            return;
        }
        Shape xs = x.shape(), ws = dw.shape(), ys = dy.shape();
        boolean bias = db != null;
        OneDnnKernel k = kernel(List.of("conv.bwd.weights", spec, xs, ws, bias, key(x.layout()), key(dy.layout())), () -> {
            PrimitiveDesc hint = convHint(spec, xs, ws);
            Shape wg = convWeights(spec, ws);
            try (MemoryDesc src = anyOr(xs, x.layout()); MemoryDesc dwei = md(wg, FormatTag.ANY);
                 MemoryDesc dbias = bias ? md(Shape.of(ws.dim(0)), FormatTag.A) : null;
                 MemoryDesc ddst = anyOr(ys, dy.layout())) {
                return new OneDnnKernel(engine, PrimitiveDesc.convolutionBackwardWeights(engine, Algorithm.CONVOLUTION_DIRECT,
                        src, dwei, dbias, ddst, strides(spec), dilates(spec), padLeft(spec), padRight(spec), hint, null),
                        backwardWeightsPorts(in(Arg.SRC, x), in(Arg.DIFF_DST, dy), wg, ws.dim(0), bias));
            }
        });
        call = remember(CONV_BWD_WEIGHTS, spec, x, dy, dw, db, k, present(x, dy, dw, db));
        k.run(stream, 0, null, call.ports());
    }

    // ---------------------------------------------------------------- pooling

    private static final long[] NO_DILATION = {0, 0};

    private static Algorithm poolAlgorithm(Pool2dSpec s, boolean max) {
        if (max) {
            return Algorithm.POOLING_MAX;
        }
        // Ceil mode counts padding only without padding (Pool2dSpec): windows inside are whole, an
        // overhanging one divides by its real inputs, so excluding padding (the overhang) is exact.
        return s.countPadding() && !s.ceilMode() ? Algorithm.POOLING_AVG_INCLUDE_PADDING : Algorithm.POOLING_AVG_EXCLUDE_PADDING;
    }

    /** The end padding oneDNN is told: the spec's, plus the overhang of ceil mode's last window. */
    private static long[] poolPadRight(Pool2dSpec s, Shape x) {
        return new long[] {s.padBottom() + s.overhangBottom(x), s.padRight() + s.overhangRight(x)};
    }

    /**
     * Where pooling and LRN run: in the tensors' own layout when they have one, else channels
     * blocked by the vector width, into and out of which the kernel converts row-major tensors.
     */
    private MemoryDesc poolDesc(Shape s, Layout layout) {
        return layout != null ? desc(s, layout) : md(s, blocked);
    }

    private PrimitiveDesc poolForwardPd(PropKind prop, Pool2dSpec s, boolean max, Shape x, Layout layout) {
        Shape y = s.outputShape(x);
        try (MemoryDesc src = poolDesc(x, layout); MemoryDesc dst = poolDesc(y, layout)) {
            return PrimitiveDesc.poolingForward(engine, prop, poolAlgorithm(s, max), src, dst,
                    new long[] {s.strideH(), s.strideW()}, new long[] {s.kernelH(), s.kernelW()}, NO_DILATION,
                    new long[] {s.padTop(), s.padLeft()}, poolPadRight(s, x), null);
        }
    }

    /** Pooling of x in {@code layout} (null: row-major), output in the same layout. */
    private OneDnnKernel poolForward(Pool2dSpec s, boolean max, boolean training, Shape x, Layout layout) {
        Shape y = s.outputShape(x);
        return kernel(List.of("pool.fwd", s, max, training, x, key(layout)), () -> new OneDnnKernel(engine,
                poolForwardPd(training ? PropKind.FORWARD_TRAINING : PropKind.FORWARD_INFERENCE, s, max, x, layout),
                List.of(port(Arg.SRC, x, layout, false), port(Arg.DST, y, layout, true))));
    }

    private OneDnnKernel poolBackward(Pool2dSpec s, boolean max, Shape x, Layout layout) {
        Shape y = s.outputShape(x);
        return kernel(List.of("pool.bwd", s, max, x, key(layout)), () -> {
            PrimitiveDesc hint = poolForward(s, max, true, x, layout).descriptor();
            try (MemoryDesc dsrc = poolDesc(x, layout); MemoryDesc ddst = poolDesc(y, layout)) {
                return new OneDnnKernel(engine, PrimitiveDesc.poolingBackward(engine, poolAlgorithm(s, max), dsrc, ddst,
                        new long[] {s.strideH(), s.strideW()}, new long[] {s.kernelH(), s.kernelW()}, NO_DILATION,
                        new long[] {s.padTop(), s.padLeft()}, poolPadRight(s, x), hint, null),
                        List.of(port(Arg.DIFF_DST, y, layout, false), port(Arg.DIFF_SRC, x, layout, true)));
            }
        });
    }

    /** A oneDNN workspace: memory in the layout the forward-training primitive asked for (null when it needs none). */
    private static final class OneDnnWorkspace extends Workspace {
        final Memory memory;

        OneDnnWorkspace(Ops owner, Object spec, Shape input, Layout layout, Memory memory) {
            super(owner, spec, input, layout);
            this.memory = memory;
        }

        @Override
        protected void free() {
            if (memory != null) {
                memory.close();
            }
        }
    }

    private Workspace workspaceFor(OneDnnKernel forwardTraining, Object spec, Shape x, Layout layout) {
        MemoryDesc desc = forwardTraining.descriptor().workspaceDesc();
        return new OneDnnWorkspace(this, spec, x, layout, desc == null ? null : Memory.allocate(desc, engine));
    }

    private static Memory memory(Workspace ws) {
        return ws == null ? null : ((OneDnnWorkspace) ws).memory;
    }

    @Override
    protected Workspace newMaxPoolWorkspace(Pool2dSpec spec, Shape x, Layout layout) {
        return workspaceFor(poolForward(spec, true, true, x, layout), spec, x, layout);
    }

    @Override
    protected void doMaxPool2dForward(Pool2dSpec spec, Tensor x, Tensor y, Workspace ws) {
        int op = ws != null ? MAX_POOL_FWD_TRAINING : MAX_POOL_FWD;
        RecentCall call = recall(op, spec, x, y, null, null);
        if (call == null) {
            call = remember(op, spec, x, y, null, null, poolForward(spec, true, ws != null, x.shape(), x.layout()), x, y);
        }
        call.kernel().run(stream, Arg.WORKSPACE, memory(ws), call.ports());
    }

    @Override
    protected void doMaxPool2dBackward(Pool2dSpec spec, Tensor dy, Workspace ws, Tensor dx) {
        RecentCall call = recall(MAX_POOL_BWD, spec, dy, dx, null, null);
        if (call == null) {
            call = remember(MAX_POOL_BWD, spec, dy, dx, null, null, poolBackward(spec, true, dx.shape(), dx.layout()), dy, dx);
        }
        call.kernel().run(stream, Arg.WORKSPACE, memory(ws), call.ports());
    }

    @Override
    protected void doAvgPool2dForward(Pool2dSpec spec, Tensor x, Tensor y) {
        RecentCall call = recall(AVG_POOL_FWD, spec, x, y, null, null);
        if (call == null) {
            call = remember(AVG_POOL_FWD, spec, x, y, null, null, poolForward(spec, false, false, x.shape(), x.layout()), x, y);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doAvgPool2dBackward(Pool2dSpec spec, Tensor dy, Tensor dx) {
        RecentCall call = recall(AVG_POOL_BWD, spec, dy, dx, null, null);
        if (call == null) {
            call = remember(AVG_POOL_BWD, spec, dy, dx, null, null, poolBackward(spec, false, dx.shape(), dx.layout()), dy, dx);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    /** oneDNN has no adaptive pooling: plain Java loops (layers pool equal bins with avgPool2d, on oneDNN). */
    @Override
    protected void doAdaptiveAvgPool2dForward(Tensor x, Tensor y) {
        javaLoops.doAdaptiveAvgPool2dForward(x, y);
    }

    @Override
    protected void doAdaptiveAvgPool2dBackward(Tensor dy, Tensor dx) {
        javaLoops.doAdaptiveAvgPool2dBackward(dy, dx);
    }

    // ---------------------------------------------------------------- element-wise

    private static Algorithm forwardAlgorithm(Activation f) {
        return switch (f) {
            case SIGMOID -> Algorithm.ELTWISE_LOGISTIC;
            case RELU -> Algorithm.ELTWISE_RELU;
            case TANH -> Algorithm.ELTWISE_TANH;
            case LINEAR -> Algorithm.ELTWISE_LINEAR;
        };
    }

    // Sigmoid and tanh differentiate cheaply from their output: y (1 - y) and 1 - y^2.
    private static Algorithm backwardAlgorithm(Activation f) {
        return switch (f) {
            case SIGMOID -> Algorithm.ELTWISE_LOGISTIC_USE_DST;
            case RELU -> Algorithm.ELTWISE_RELU;
            case TANH -> Algorithm.ELTWISE_TANH_USE_DST;
            case LINEAR -> Algorithm.ELTWISE_LINEAR;
        };
    }

    private static boolean backwardUsesDst(Activation f) {
        return f == Activation.SIGMOID || f == Activation.TANH;
    }

    // LINEAR is y = alpha x + beta with alpha 1, beta 0; relu's alpha is its negative slope, 0.
    private static float alpha(Activation f) {
        return f == Activation.LINEAR ? 1f : 0f;
    }

    private OneDnnKernel activationForwardKernel(Activation f, Algorithm algorithm, PropKind prop, Shape x, Layout layout) {
        return kernel(List.of("eltwise.fwd", f, algorithm, prop, x, key(layout)), () -> {
            try (MemoryDesc src = desc(x, layout)) {
                return new OneDnnKernel(engine, PrimitiveDesc.eltwiseForward(engine, prop, algorithm, src, src, alpha(f), 0f, null),
                        List.of(port(Arg.SRC, x, layout, false), port(Arg.DST, x, layout, true)));
            }
        });
    }

    @Override
    protected void doActivationForward(Activation f, Tensor x, Tensor y) {
        if (smallForJava(x.size()) && x.layout() == null) {
            SmallCallKernels.activationForward(f, x, y);
            return;
        }
        RecentCall call = recall(ELTWISE_FWD, f, x, y, null, null);
        if (call == null) {
            call = remember(ELTWISE_FWD, f, x, y, null, null,
                    activationForwardKernel(f, forwardAlgorithm(f), PropKind.FORWARD_INFERENCE, x.shape(), x.layout()), x, y);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doActivationBackward(Activation f, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (smallForJava(x.size()) && x.layout() == null) {
            SmallCallKernels.activationBackward(f, x, y, dy, dx);
            return;
        }
        RecentCall call = recall(ELTWISE_BWD, f, x, y, dy, dx);
        if (call != null) {
            call.kernel().run(stream, 0, null, call.ports());
            return;
        }
        Shape s = x.shape();
        Layout layout = x.layout(); // dy's and dx's too
        Algorithm algorithm = backwardAlgorithm(f);
        boolean useDst = backwardUsesDst(f);
        OneDnnKernel k = kernel(List.of("eltwise.bwd", f, s, key(layout)), () -> {
            PrimitiveDesc hint = hint(List.of("eltwise.fwd.training", f, algorithm, s, key(layout)), () -> {
                try (MemoryDesc src = desc(s, layout)) {
                    return PrimitiveDesc.eltwiseForward(engine, PropKind.FORWARD_TRAINING, algorithm, src, src, alpha(f), 0f, null);
                }
            });
            try (MemoryDesc d = desc(s, layout)) {
                return new OneDnnKernel(engine, PrimitiveDesc.eltwiseBackward(engine, algorithm, d, d, d, alpha(f), 0f, hint, null),
                        List.of(port(useDst ? Arg.DST : Arg.SRC, s, layout, false), port(Arg.DIFF_DST, s, layout, false),
                                port(Arg.DIFF_SRC, s, layout, true)));
            }
        });
        remember(ELTWISE_BWD, f, x, y, dy, dx, k, useDst ? y : x, dy, dx).kernel().run(stream, 0, null, useDst ? y : x, dy, dx);
    }

    /** The bounds of a clip call: the memo tells calls apart by this object's identity. */
    private record ClipBounds(float min, float max) {}

    private ClipBounds lastClip; // most calls of a plan repeat one pair (ReLU6): found again without allocating

    private ClipBounds clipBounds(float min, float max) {
        ClipBounds b = lastClip;
        if (b == null || Float.compare(b.min(), min) != 0 || Float.compare(b.max(), max) != 0) {
            b = new ClipBounds(min, max);
            lastClip = b;
        }
        return b;
    }

    @Override
    protected void doClipForward(float min, float max, Tensor x, Tensor y) {
        ClipBounds b = clipBounds(min, max);
        RecentCall call = recall(CLIP_FWD, b, x, y, null, null);
        if (call == null) {
            Shape s = x.shape();
            Layout layout = x.layout();
            OneDnnKernel k = kernel(List.of("clip.fwd", b, s, key(layout)), () -> {
                try (MemoryDesc d = desc(s, layout)) {
                    return new OneDnnKernel(engine, PrimitiveDesc.eltwiseForward(engine, PropKind.FORWARD_INFERENCE,
                            Algorithm.ELTWISE_CLIP_V2, d, d, min, max, null),
                            List.of(port(Arg.SRC, s, layout, false), port(Arg.DST, s, layout, true)));
                }
            });
            call = remember(CLIP_FWD, b, x, y, null, null, k, x, y);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doClipBackward(float min, float max, Tensor x, Tensor dy, Tensor dx) {
        ClipBounds b = clipBounds(min, max);
        RecentCall call = recall(CLIP_BWD, b, x, dy, dx, null);
        if (call == null) {
            Shape s = x.shape();
            Layout layout = x.layout();
            OneDnnKernel k = kernel(List.of("clip.bwd", b, s, key(layout)), () -> {
                PrimitiveDesc hint = hint(List.of("clip.fwd.training", b, s, key(layout)), () -> {
                    try (MemoryDesc d = desc(s, layout)) {
                        return PrimitiveDesc.eltwiseForward(engine, PropKind.FORWARD_TRAINING, Algorithm.ELTWISE_CLIP_V2, d, d, min, max,
                                null);
                    }
                });
                try (MemoryDesc d = desc(s, layout)) {
                    return new OneDnnKernel(engine, PrimitiveDesc.eltwiseBackward(engine, Algorithm.ELTWISE_CLIP_V2, d, d, d, min, max,
                            hint, null), List.of(port(Arg.SRC, s, layout, false), port(Arg.DIFF_DST, s, layout, false),
                            port(Arg.DIFF_SRC, s, layout, true)));
                }
            });
            call = remember(CLIP_BWD, b, x, dy, dx, null, k, x, dy, dx);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    // ---------------------------------------------------------------- softmax

    private static Algorithm softmaxAlgorithm(boolean log) {
        return log ? Algorithm.SOFTMAX_LOG : Algorithm.SOFTMAX_ACCURATE;
    }

    private OneDnnKernel softmaxForwardKernel(boolean log, PropKind prop, Shape x) {
        return kernel(List.of("softmax.fwd", log, prop, x), () -> {
            try (MemoryDesc d = plain(x)) {
                return new OneDnnKernel(engine, PrimitiveDesc.softmaxForward(engine, prop, softmaxAlgorithm(log), d, d, 1, null),
                        List.of(in(Arg.SRC, x), out(Arg.DST, x)));
            }
        });
    }

    @Override
    protected void doSoftmaxForward(Tensor x, Tensor y, boolean log) {
        if (smallForJava(4 * x.size())) {
            javaLoops.doSoftmaxForward(x, y, log);
            return;
        }
        int op = log ? LOG_SOFTMAX_FWD : SOFTMAX_FWD;
        RecentCall call = recall(op, null, x, y, null, null);
        if (call == null) {
            call = remember(op, null, x, y, null, null, softmaxForwardKernel(log, PropKind.FORWARD_INFERENCE, x.shape()), x, y);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doSoftmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean log) {
        if (smallForJava(4 * y.size())) {
            javaLoops.doSoftmaxBackward(y, dy, dx, log);
            return;
        }
        int op = log ? LOG_SOFTMAX_BWD : SOFTMAX_BWD;
        RecentCall call = recall(op, null, y, dy, dx, null);
        if (call != null) {
            call.kernel().run(stream, 0, null, call.ports());
            return;
        }
        Shape s = y.shape();
        OneDnnKernel k = kernel(List.of("softmax.bwd", log, s), () -> {
            PrimitiveDesc hint = hint(List.of("softmax.fwd.training", log, s), () -> {
                try (MemoryDesc d = plain(s)) {
                    return PrimitiveDesc.softmaxForward(engine, PropKind.FORWARD_TRAINING, softmaxAlgorithm(log), d, d, 1, null);
                }
            });
            try (MemoryDesc d = plain(s)) {
                return new OneDnnKernel(engine, PrimitiveDesc.softmaxBackward(engine, softmaxAlgorithm(log), d, d, d, 1, hint, null),
                        List.of(in(Arg.DST, s), in(Arg.DIFF_DST, s), out(Arg.DIFF_SRC, s)));
            }
        });
        remember(op, null, y, dy, dx, null, k, y, dy, dx).kernel().run(stream, 0, null, y, dy, dx);
    }

    // ---------------------------------------------------------------- LRN

    private OneDnnKernel lrnForwardKernel(LrnSpec s, boolean training, Shape x, Layout layout) {
        return kernel(List.of("lrn.fwd", s, training, x, key(layout)), () -> {
            try (MemoryDesc d = poolDesc(x, layout)) {
                return new OneDnnKernel(engine, PrimitiveDesc.lrnForward(engine,
                        training ? PropKind.FORWARD_TRAINING : PropKind.FORWARD_INFERENCE, Algorithm.LRN_ACROSS_CHANNELS, d, d,
                        s.size(), s.alpha(), s.beta(), s.k(), null),
                        List.of(port(Arg.SRC, x, layout, false), port(Arg.DST, x, layout, true)));
            }
        });
    }

    @Override
    protected Workspace newLrnWorkspace(LrnSpec spec, Shape x, Layout layout) {
        return workspaceFor(lrnForwardKernel(spec, true, x, layout), spec, x, layout);
    }

    @Override
    protected void doLrnForward(LrnSpec spec, Tensor x, Tensor y, Workspace ws) {
        int op = ws != null ? LRN_FWD_TRAINING : LRN_FWD;
        RecentCall call = recall(op, spec, x, y, null, null);
        if (call == null) {
            call = remember(op, spec, x, y, null, null, lrnForwardKernel(spec, ws != null, x.shape(), x.layout()), x, y);
        }
        call.kernel().run(stream, Arg.WORKSPACE, memory(ws), call.ports());
    }

    @Override
    protected void doLrnBackward(LrnSpec spec, Tensor x, Tensor dy, Workspace ws, Tensor dx) {
        RecentCall call = recall(LRN_BWD, spec, x, dy, dx, null);
        if (call != null) {
            call.kernel().run(stream, Arg.WORKSPACE, memory(ws), call.ports());
            return;
        }
        Shape s = x.shape();
        Layout layout = x.layout(); // dy's and dx's too
        OneDnnKernel k = kernel(List.of("lrn.bwd", spec, s, key(layout)), () -> {
            PrimitiveDesc hint = lrnForwardKernel(spec, true, s, layout).descriptor();
            try (MemoryDesc d = poolDesc(s, layout)) {
                return new OneDnnKernel(engine, PrimitiveDesc.lrnBackward(engine, Algorithm.LRN_ACROSS_CHANNELS, d, d, d,
                        spec.size(), spec.alpha(), spec.beta(), spec.k(), hint, null),
                        List.of(port(Arg.SRC, s, layout, false), port(Arg.DIFF_DST, s, layout, false), port(Arg.DIFF_SRC, s, layout, true)));
            }
        });
        remember(LRN_BWD, spec, x, dy, dx, null, k, x, dy, dx).kernel().run(stream, Arg.WORKSPACE, memory(ws), x, dy, dx);
    }

    // ---------------------------------------------------------------- batch normalisation

    private static final int SCALE_SHIFT = PrimitiveDesc.USE_SCALE | PrimitiveDesc.USE_SHIFT;

    /** Whether a remembered call's ports are these very tensors (its first four matched already): six of them. */
    private static boolean ports(RecentCall call, Tensor t0, Tensor t1, Tensor t2, Tensor t3, Tensor t4, Tensor t5) {
        Tensor[] p = call.ports();
        return p[0] == t0 && p[1] == t1 && p[2] == t2 && p[3] == t3 && p[4] == t4 && p[5] == t5;
    }

    /** Forward batch normalisation on x's layout (oneDNN's blocked and channels-last kernels need no conversion). */
    private PrimitiveDesc batchNormForwardPd(PropKind prop, BatchNormSpec spec, int flags, Shape x, Layout layout) {
        try (MemoryDesc d = desc(x, layout)) {
            return PrimitiveDesc.batchNormalizationForward(engine, prop, d, d, spec.epsilon(), flags, null);
        }
    }

    @Override
    protected void doBatchNormTrainingForward(BatchNormSpec spec, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean,
            Tensor variance, Tensor runningMean, Tensor runningVariance) {
        batchNormForward(true, spec, x, gamma, beta, y, mean, variance);
        Shape s = x.shape();
        updateRunningStatistics(spec, s.dim(0) * s.dim(2) * s.dim(3), mean, variance, runningMean, runningVariance);
    }

    @Override
    protected void doBatchNormInferenceForward(BatchNormSpec spec, Tensor x, Tensor gamma, Tensor beta, Tensor mean,
            Tensor variance, Tensor y) {
        batchNormForward(false, spec, x, gamma, beta, y, mean, variance);
    }

    /** Training: the batch's statistics into mean and variance; else normalised with them (global stats). */
    private void batchNormForward(boolean training, BatchNormSpec spec, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean,
            Tensor variance) {
        int op = training ? BNORM_FWD_TRAINING : BNORM_FWD;
        RecentCall call = recall(op, spec, x, y, mean, variance);
        if (call == null || !ports(call, x, gamma, beta, y, mean, variance)) {
            Shape s = x.shape();
            Layout layout = x.layout();
            Shape c = Shape.of(s.dim(1));
            PropKind prop = training ? PropKind.FORWARD_TRAINING : PropKind.FORWARD_INFERENCE;
            int flags = training ? SCALE_SHIFT : SCALE_SHIFT | PrimitiveDesc.USE_GLOBAL_STATS;
            OneDnnKernel k = kernel(List.of("bnorm.fwd", prop, spec, s, key(layout)), () -> new OneDnnKernel(engine,
                    batchNormForwardPd(prop, spec, flags, s, layout),
                    List.of(port(Arg.SRC, s, layout, false), in(Arg.SCALE, c), in(Arg.SHIFT, c), port(Arg.DST, s, layout, true),
                            new PortSpec(Arg.MEAN, c, training), new PortSpec(Arg.VARIANCE, c, training))));
            call = remember(op, spec, x, y, mean, variance, k, x, gamma, beta, y, mean, variance);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    /**
     * Where dgamma and dbeta go when the caller wants dx alone, by channel count: oneDNN's
     * backward_data still counts diff_scale as an output, so every backward call runs as backward.
     */
    private final List<Tensor[]> unwantedGradients = new ArrayList<>(); // a few channel counts: scanned, no boxing per call

    private Tensor[] unwantedGradients(long channels) {
        for (Tensor[] pair : unwantedGradients) {
            if (pair[0].size() == channels) {
                return pair;
            }
        }
        Tensor[] pair = {Tensor.allocate(Shape.of(channels)), Tensor.allocate(Shape.of(channels))};
        unwantedGradients.add(pair);
        return pair;
    }

    @Override
    protected void doBatchNormBackward(BatchNormSpec spec, boolean batchStatistics, Tensor x, Tensor dy, Tensor gamma, Tensor mean,
            Tensor variance, Tensor dx, Tensor dgamma, Tensor dbeta) {
        if (dgamma == null) {
            Tensor[] scratch = unwantedGradients(x.shape().dim(1));
            dgamma = scratch[0];
            dbeta = scratch[1];
        }
        int op = batchStatistics ? BNORM_BWD : BNORM_BWD_GLOBAL;
        RecentCall call = recall(op, spec, x, dy, dx, mean);
        if (call != null && ports(call, x, mean, variance, dy, gamma, dx) && call.ports()[6] == dgamma && call.ports()[7] == dbeta) {
            call.kernel().run(stream, 0, null, call.ports());
            return;
        }
        Shape s = x.shape();
        Layout layout = x.layout(); // dy's and dx's too
        Shape c = Shape.of(s.dim(1));
        int flags = SCALE_SHIFT | (batchStatistics ? 0 : PrimitiveDesc.USE_GLOBAL_STATS);
        OneDnnKernel k = kernel(List.of("bnorm.bwd", spec, flags, s, key(layout)), () -> {
            PrimitiveDesc hint = hint(List.of("bnorm.fwd.training", spec, flags, s, key(layout)),
                    () -> batchNormForwardPd(PropKind.FORWARD_TRAINING, spec, flags, s, layout));
            // oneDNN describes the shift too but does not take it: diff_shift = the sum of diff_dst
            List<PortSpec> ports = List.of(port(Arg.SRC, s, layout, false), in(Arg.MEAN, c), in(Arg.VARIANCE, c),
                    port(Arg.DIFF_DST, s, layout, false), in(Arg.SCALE, c), port(Arg.DIFF_SRC, s, layout, true),
                    out(Arg.DIFF_SCALE, c), out(Arg.DIFF_SHIFT, c));
            try (MemoryDesc d = desc(s, layout)) {
                return new OneDnnKernel(engine, PrimitiveDesc.batchNormalizationBackward(engine, PropKind.BACKWARD, d, d, d,
                        spec.epsilon(), flags, hint, null), ports);
            }
        });
        remember(op, spec, x, dy, dx, mean, k, x, mean, variance, dy, gamma, dx, dgamma, dbeta).kernel().run(stream, 0, null,
                x, mean, variance, dy, gamma, dx, dgamma, dbeta);
    }

    // ---------------------------------------------------------------- binary, sum, layout

    /** Element-wise a (op) b, all three in {@code layout} (null: row-major). */
    private OneDnnKernel binary(Algorithm algorithm, Shape s, Layout layout) {
        return binary(algorithm, s, layout, Activation.LINEAR);
    }

    /** With {@code f} fused as a post-op unless it is LINEAR. */
    private OneDnnKernel binary(Algorithm algorithm, Shape s, Layout layout, Activation f) {
        return kernel(List.of("binary", algorithm, s, key(layout), f), () -> {
            try (MemoryDesc d = desc(s, layout); PrimitiveAttr attr = fused(f)) {
                return new OneDnnKernel(engine, PrimitiveDesc.binary(engine, algorithm, d, d, d, attr),
                        List.of(port(Arg.SRC, s, layout, false), port(Arg.SRC_1, s, layout, false), port(Arg.DST, s, layout, true)));
            }
        });
    }

    @Override
    protected void doAdd(Tensor a, Tensor b, Tensor y) {
        doAdd(a, b, y, Activation.LINEAR);
    }

    @Override
    protected void doAdd(Tensor a, Tensor b, Tensor y, Activation f) {
        if (smallForJava(a.size()) && a.layout() == null) {
            SmallCallKernels.add(a, b, y);
            if (f != Activation.LINEAR) {
                SmallCallKernels.activationForward(f, y, y);
            }
            return;
        }
        int op = withActivation(ADD, f);
        RecentCall call = recall(op, null, a, b, y, null);
        if (call == null) {
            call = remember(op, null, a, b, y, null, binary(Algorithm.BINARY_ADD, a.shape(), a.layout(), f), a, b, y);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doMultiply(Tensor a, Tensor b, Tensor y) {
        if (smallForJava(a.size())) {
            javaLoops.doMultiply(a, b, y);
            return;
        }
        RecentCall call = recall(MULTIPLY, null, a, b, y, null);
        if (call == null) {
            call = remember(MULTIPLY, null, a, b, y, null, binary(Algorithm.BINARY_MUL, a.shape(), null), a, b, y);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doSum(List<Tensor> inputs, Tensor y) {
        Layout layout = y.layout(); // every input's too
        if (smallForJava(inputs.size() * y.size()) && layout == null) {
            javaLoops.doSum(inputs, y);
            return;
        }
        if (inputs.size() == 2) { // oneDNN's sum picks a generic loop (simple:any) on channels-last; binary add is jit
            doAdd(inputs.get(0), inputs.get(1), y);
            return;
        }
        Shape s = y.shape();
        int n = inputs.size();
        OneDnnKernel k = kernel(List.of("sum", n, s, key(layout)), () -> {
            MemoryDesc[] srcs = new MemoryDesc[n];
            float[] scales = new float[n];
            List<PortSpec> ports = new ArrayList<>();
            try (MemoryDesc d = desc(s, layout)) {
                for (int i = 0; i < n; i++) {
                    srcs[i] = d;
                    scales[i] = 1f;
                    ports.add(port(Arg.MULTIPLE_SRC + i, s, layout, false));
                }
                ports.add(port(Arg.DST, s, layout, true));
                return new OneDnnKernel(engine, PrimitiveDesc.sum(engine, d, scales, srcs, null), ports);
            }
        });
        Tensor[] tensors = inputs.toArray(new Tensor[n + 1]);
        tensors[n] = y;
        k.run(stream, 0, null, tensors);
    }

    @Override
    protected void doAccumulate(Tensor src, Tensor dst) {
        if (smallForJava(src.size()) && dst.layout() == null) {
            SmallCallKernels.accumulate(src, dst);
            return;
        }
        // Binary add in place: oneDNN allows dst to be the same memory as src0.
        RecentCall call = recall(ACCUMULATE, null, src, dst, null, null);
        if (call == null) {
            call = remember(ACCUMULATE, null, src, dst, null, null, binary(Algorithm.BINARY_ADD, dst.shape(), dst.layout()), dst, src, dst);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doReorder(Tensor x, Tensor y) {
        RecentCall call = recall(REORDER, null, x, y, null, null);
        if (call == null) {
            Shape s = x.shape();
            Layout from = x.layout(), to = y.layout();
            OneDnnKernel k = kernel(List.of("reorder", s, key(from), key(to)), () -> {
                try (MemoryDesc src = desc(s, from); MemoryDesc dst = desc(s, to)) {
                    return new OneDnnKernel(engine, PrimitiveDesc.reorder(engine, src, dst, null),
                            List.of(port(Arg.FROM, s, from, false), port(Arg.TO, s, to, true)), true);
                }
            });
            call = remember(REORDER, null, x, y, null, null, k, x, y);
        }
        call.kernel().run(stream, 0, null, call.ports());
    }

    @Override
    protected void doPermute(Tensor x, int[] order, Tensor y) {
        Shape xs = x.shape(), ys = y.shape();
        OneDnnKernel k = kernel(List.of("permute", xs, List.of(java.util.Arrays.stream(order).boxed().toArray())), () -> {
            // Describe x's memory in y's dimension order: y's dim i walks x's dim order[i].
            long[] xStrides = xs.strides();
            long[] strides = new long[order.length];
            for (int i = 0; i < order.length; i++) {
                strides[i] = xStrides[order[i]];
            }
            try (MemoryDesc src = MemoryDesc.withStrides(DataType.F32, ys.dims(), strides); MemoryDesc dst = plain(ys)) {
                return new OneDnnKernel(engine, PrimitiveDesc.reorder(engine, src, dst, null),
                        List.of(new PortSpec(Arg.FROM, ys, false, strides, null), out(Arg.TO, ys)));
            }
        });
        k.run(stream, 0, null, x.reshape(ys), y);
    }

    @Override
    protected void free() {
        for (OneDnnKernel k : kernels.values()) {
            k.close();
        }
        kernels.clear();
        for (PrimitiveDesc pd : hints.values()) {
            pd.close();
        }
        hints.clear();
        for (Tensor[] pair : unwantedGradients) {
            pair[0].close();
            pair[1].close();
        }
        unwantedGradients.clear();
        javaLoops.close();
        stream.close();
        engine.close();
    }
}
