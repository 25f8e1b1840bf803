package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A primitive descriptor: a primitive's operation, shapes and attributes, with the
 * implementation oneDNN chose for them. Descriptors given {@link FormatTag#ANY} come back from
 * {@link #queryMd} with the layout that implementation prefers.
 */
public final class PrimitiveDesc extends NativeHandle {

    private final Engine engine;
    private final String what;

    private PrimitiveDesc(MemorySegment handle, Engine engine, String what) {
        super("PrimitiveDesc", handle);
        this.engine = engine;
        this.what = what;
    }

    /** The signature of the C create functions after the output pointer and the engine. */
    @FunctionalInterface
    private interface Create {
        int call(Arena arena, MemorySegment out, MemorySegment engine);
    }

    private static PrimitiveDesc create(Engine engine, String function, String what, Create create) {
        MemorySegment e = engine.retain();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(create.call(arena, out, e), function, what);
            return new PrimitiveDesc(out.get(C_POINTER, 0), engine, what);
        } catch (RuntimeException | Error ex) {
            engine.release();
            throw ex;
        }
    }

    private static MemorySegment md(MemoryDesc desc) {
        return desc == null ? MemorySegment.NULL : desc.handle();
    }

    private static MemorySegment attr(PrimitiveAttr attr) {
        return attr == null ? MemorySegment.NULL : attr.handle();
    }

    private static MemorySegment dims(Arena arena, String name, long[] values, int spatial) {
        if (values.length != spatial) {
            throw new IllegalArgumentException(name + " " + Arrays.toString(values) + " must have one value per spatial dimension ("
                    + spatial + ")");
        }
        return arena.allocateFrom(C_LONG, values);
    }

    /**
     * Matrix multiplication {@code dst = src x weights (+ bias)}: src (M, K), weights (K, N),
     * dst (M, N), bias (1, N) or null; with a leading batch dimension on all, batched.
     */
    public static PrimitiveDesc matmul(Engine engine, MemoryDesc src, MemoryDesc weights, MemoryDesc bias, MemoryDesc dst,
            PrimitiveAttr attr) {
        String what = "matmul src " + src + ", weights " + weights + ", bias " + bias + ", dst " + dst;
        return create(engine, "dnnl_matmul_primitive_desc_create", what, (arena, out, e) ->
                dnnl_matmul_primitive_desc_create(out, e, src.handle(), weights.handle(), md(bias), dst.handle(), attr(attr)));
    }

    /**
     * Forward convolution. src (N, C, H, W), weights (O, C, kH, kW) or, grouped, (G, O / G, C / G, kH, kW), bias (O) or null,
     * dst (N, O, oH, oW); strides, dilates and paddings have one value per spatial dimension.
     * Dilation is oneDNN's: 0 means dense (PyTorch's dilation minus one).
     */
    public static PrimitiveDesc convolutionForward(Engine engine, PropKind prop, Algorithm algorithm, MemoryDesc src,
            MemoryDesc weights, MemoryDesc bias, MemoryDesc dst, long[] strides, long[] dilates, long[] padLeft,
            long[] padRight, PrimitiveAttr attr) {
        int spatial = src.ndims() - 2;
        String what = "convolution " + prop + " src " + src + ", weights " + weights + ", bias " + bias + ", dst " + dst
                + ", strides " + Arrays.toString(strides) + ", dilates " + Arrays.toString(dilates) + ", padding "
                + Arrays.toString(padLeft) + "/" + Arrays.toString(padRight);
        return create(engine, "dnnl_convolution_forward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_convolution_forward_primitive_desc_create(out, e, prop.code(), algorithm.code(), src.handle(),
                        weights.handle(), md(bias), dst.handle(), dims(arena, "strides", strides, spatial),
                        dims(arena, "dilates", dilates, spatial), dims(arena, "padLeft", padLeft, spatial),
                        dims(arena, "padRight", padRight, spatial), attr(attr)));
    }

    /**
     * The forward descriptor a backward one is built from. oneDNN reads it without checking (a
     * null or mismatched hint crashes some kernels), so it is required and checked here: the same
     * primitive kind, propagation forward_training.
     */
    private static MemorySegment hint(PrimitiveDesc forward, int kind, String name) {
        if (forward == null) {
            throw new IllegalArgumentException(name + " backward needs its forward_training primitive descriptor as hint");
        }
        int actualKind = forward.queryInt(dnnl_query_primitive_kind);
        if (actualKind != kind) {
            throw new IllegalArgumentException(name + " backward was given a hint of primitive kind " + actualKind
                    + " (" + forward.what + "), not a " + name + " forward descriptor");
        }
        if (forward.queryInt(dnnl_query_prop_kind) != dnnl_forward_training) {
            throw new IllegalArgumentException(name + " backward needs a forward_training hint, not " + forward.what);
        }
        return forward.handle();
    }

    private int queryInt(int what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_INT);
            DnnlException.check(dnnl_primitive_desc_query(handle(), what, 0, out), "dnnl_primitive_desc_query");
            return out.get(C_INT, 0);
        }
    }

    private static String dims(long[] values) {
        return Arrays.toString(values);
    }

    /** Inner product (dense layer) forward: src (N, I), weights (O, I), bias (O) or null, dst (N, O). */
    public static PrimitiveDesc innerProductForward(Engine engine, PropKind prop, MemoryDesc src, MemoryDesc weights,
            MemoryDesc bias, MemoryDesc dst, PrimitiveAttr attr) {
        String what = "inner product " + prop + " src " + src + ", weights " + weights + ", bias " + bias + ", dst " + dst;
        return create(engine, "dnnl_inner_product_forward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_inner_product_forward_primitive_desc_create(out, e, prop.code(), src.handle(), weights.handle(), md(bias),
                        dst.handle(), attr(attr)));
    }

    /** Inner product backward data: diff_src = diff_dst x weights. {@code forward} is the forward descriptor (a hint). */
    public static PrimitiveDesc innerProductBackwardData(Engine engine, MemoryDesc diffSrc, MemoryDesc weights,
            MemoryDesc diffDst, PrimitiveDesc forward, PrimitiveAttr attr) {
        String what = "inner product backward data diff_src " + diffSrc + ", weights " + weights + ", diff_dst " + diffDst;
        return create(engine, "dnnl_inner_product_backward_data_primitive_desc_create", what, (arena, out, e) ->
                dnnl_inner_product_backward_data_primitive_desc_create(out, e, diffSrc.handle(), weights.handle(),
                        diffDst.handle(), hint(forward, dnnl_inner_product, "inner product"), attr(attr)));
    }

    /** Inner product backward weights: diff_weights = diff_dst^T x src; diff_bias (may be null) = column sums. */
    public static PrimitiveDesc innerProductBackwardWeights(Engine engine, MemoryDesc src, MemoryDesc diffWeights,
            MemoryDesc diffBias, MemoryDesc diffDst, PrimitiveDesc forward, PrimitiveAttr attr) {
        String what = "inner product backward weights src " + src + ", diff_weights " + diffWeights + ", diff_bias " + diffBias
                + ", diff_dst " + diffDst;
        return create(engine, "dnnl_inner_product_backward_weights_primitive_desc_create", what, (arena, out, e) ->
                dnnl_inner_product_backward_weights_primitive_desc_create(out, e, src.handle(), diffWeights.handle(),
                        md(diffBias), diffDst.handle(), hint(forward, dnnl_inner_product, "inner product"), attr(attr)));
    }

    /** Convolution backward data (same geometry as the forward descriptor it is given as hint). */
    public static PrimitiveDesc convolutionBackwardData(Engine engine, Algorithm algorithm, MemoryDesc diffSrc,
            MemoryDesc weights, MemoryDesc diffDst, long[] strides, long[] dilates, long[] padLeft, long[] padRight,
            PrimitiveDesc forward, PrimitiveAttr attr) {
        int spatial = diffSrc.ndims() - 2;
        String what = "convolution backward data diff_src " + diffSrc + ", weights " + weights + ", diff_dst " + diffDst
                + ", strides " + dims(strides) + ", dilates " + dims(dilates) + ", padding " + dims(padLeft) + "/" + dims(padRight);
        return create(engine, "dnnl_convolution_backward_data_primitive_desc_create", what, (arena, out, e) ->
                dnnl_convolution_backward_data_primitive_desc_create(out, e, algorithm.code(), diffSrc.handle(),
                        weights.handle(), diffDst.handle(), dims(arena, "strides", strides, spatial),
                        dims(arena, "dilates", dilates, spatial), dims(arena, "padLeft", padLeft, spatial),
                        dims(arena, "padRight", padRight, spatial), hint(forward, dnnl_convolution, "convolution"), attr(attr)));
    }

    /** Convolution backward weights: diff_weights and diff_bias (may be null). */
    public static PrimitiveDesc convolutionBackwardWeights(Engine engine, Algorithm algorithm, MemoryDesc src,
            MemoryDesc diffWeights, MemoryDesc diffBias, MemoryDesc diffDst, long[] strides, long[] dilates, long[] padLeft,
            long[] padRight, PrimitiveDesc forward, PrimitiveAttr attr) {
        int spatial = src.ndims() - 2;
        String what = "convolution backward weights src " + src + ", diff_weights " + diffWeights + ", diff_bias " + diffBias
                + ", diff_dst " + diffDst + ", strides " + dims(strides) + ", dilates " + dims(dilates) + ", padding "
                + dims(padLeft) + "/" + dims(padRight);
        return create(engine, "dnnl_convolution_backward_weights_primitive_desc_create", what, (arena, out, e) ->
                dnnl_convolution_backward_weights_primitive_desc_create(out, e, algorithm.code(), src.handle(),
                        diffWeights.handle(), md(diffBias), diffDst.handle(), dims(arena, "strides", strides, spatial),
                        dims(arena, "dilates", dilates, spatial), dims(arena, "padLeft", padLeft, spatial),
                        dims(arena, "padRight", padRight, spatial), hint(forward, dnnl_convolution, "convolution"), attr(attr)));
    }

    /** Pooling forward. Dilation is oneDNN's (0 = dense). Max pooling in training keeps a workspace. */
    public static PrimitiveDesc poolingForward(Engine engine, PropKind prop, Algorithm algorithm, MemoryDesc src,
            MemoryDesc dst, long[] strides, long[] kernel, long[] dilation, long[] padLeft, long[] padRight,
            PrimitiveAttr attr) {
        int spatial = src.ndims() - 2;
        String what = "pooling " + algorithm + " " + prop + " src " + src + ", dst " + dst + ", kernel " + dims(kernel)
                + ", strides " + dims(strides) + ", padding " + dims(padLeft) + "/" + dims(padRight);
        return create(engine, "dnnl_pooling_forward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_pooling_forward_primitive_desc_create(out, e, prop.code(), algorithm.code(), src.handle(), dst.handle(),
                        dims(arena, "strides", strides, spatial), dims(arena, "kernel", kernel, spatial),
                        dims(arena, "dilation", dilation, spatial), dims(arena, "padLeft", padLeft, spatial),
                        dims(arena, "padRight", padRight, spatial), attr(attr)));
    }

    /** Pooling backward; max pooling reads the forward pass's workspace. */
    public static PrimitiveDesc poolingBackward(Engine engine, Algorithm algorithm, MemoryDesc diffSrc, MemoryDesc diffDst,
            long[] strides, long[] kernel, long[] dilation, long[] padLeft, long[] padRight, PrimitiveDesc forward,
            PrimitiveAttr attr) {
        int spatial = diffSrc.ndims() - 2;
        String what = "pooling " + algorithm + " backward diff_src " + diffSrc + ", diff_dst " + diffDst + ", kernel "
                + dims(kernel) + ", strides " + dims(strides) + ", padding " + dims(padLeft) + "/" + dims(padRight);
        return create(engine, "dnnl_pooling_backward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_pooling_backward_primitive_desc_create(out, e, algorithm.code(), diffSrc.handle(), diffDst.handle(),
                        dims(arena, "strides", strides, spatial), dims(arena, "kernel", kernel, spatial),
                        dims(arena, "dilation", dilation, spatial), dims(arena, "padLeft", padLeft, spatial),
                        dims(arena, "padRight", padRight, spatial), hint(forward, dnnl_pooling, "pooling"), attr(attr)));
    }

    /** Element-wise forward; alpha and beta as the algorithm defines them (linear: alpha x + beta). */
    public static PrimitiveDesc eltwiseForward(Engine engine, PropKind prop, Algorithm algorithm, MemoryDesc src,
            MemoryDesc dst, float alpha, float beta, PrimitiveAttr attr) {
        String what = "eltwise " + algorithm + " " + prop + " src " + src + ", dst " + dst + ", alpha " + alpha + ", beta " + beta;
        return create(engine, "dnnl_eltwise_forward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_eltwise_forward_primitive_desc_create(out, e, prop.code(), algorithm.code(), src.handle(), dst.handle(),
                        alpha, beta, attr(attr)));
    }

    /** Element-wise backward; {@code data} is src, or dst for the *_USE_DST algorithms. */
    public static PrimitiveDesc eltwiseBackward(Engine engine, Algorithm algorithm, MemoryDesc diffSrc, MemoryDesc diffDst,
            MemoryDesc data, float alpha, float beta, PrimitiveDesc forward, PrimitiveAttr attr) {
        String what = "eltwise " + algorithm + " backward diff_src " + diffSrc + ", diff_dst " + diffDst + ", data " + data;
        return create(engine, "dnnl_eltwise_backward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_eltwise_backward_primitive_desc_create(out, e, algorithm.code(), diffSrc.handle(), diffDst.handle(),
                        data.handle(), alpha, beta, hint(forward, dnnl_eltwise, "eltwise"), attr(attr)));
    }

    /** Softmax ({@link Algorithm#SOFTMAX_ACCURATE}) or log-softmax ({@link Algorithm#SOFTMAX_LOG}) along {@code axis}. */
    public static PrimitiveDesc softmaxForward(Engine engine, PropKind prop, Algorithm algorithm, MemoryDesc src,
            MemoryDesc dst, int axis, PrimitiveAttr attr) {
        String what = "softmax " + algorithm + " " + prop + " src " + src + ", dst " + dst + ", axis " + axis;
        return create(engine, "dnnl_softmax_forward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_softmax_forward_primitive_desc_create(out, e, prop.code(), algorithm.code(), src.handle(), dst.handle(),
                        axis, attr(attr)));
    }

    /** Softmax backward, from the forward output {@code dst}. */
    public static PrimitiveDesc softmaxBackward(Engine engine, Algorithm algorithm, MemoryDesc diffSrc, MemoryDesc diffDst,
            MemoryDesc dst, int axis, PrimitiveDesc forward, PrimitiveAttr attr) {
        String what = "softmax " + algorithm + " backward diff_src " + diffSrc + ", diff_dst " + diffDst + ", dst " + dst;
        return create(engine, "dnnl_softmax_backward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_softmax_backward_primitive_desc_create(out, e, algorithm.code(), diffSrc.handle(), diffDst.handle(),
                        dst.handle(), axis, hint(forward, dnnl_softmax, "softmax"), attr(attr)));
    }

    /** Local response normalisation forward (alpha is divided by size inside oneDNN). */
    public static PrimitiveDesc lrnForward(Engine engine, PropKind prop, Algorithm algorithm, MemoryDesc src, MemoryDesc dst,
            long size, float alpha, float beta, float k, PrimitiveAttr attr) {
        String what = "lrn " + algorithm + " " + prop + " src " + src + ", size " + size + ", alpha " + alpha + ", beta " + beta
                + ", k " + k;
        return create(engine, "dnnl_lrn_forward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_lrn_forward_primitive_desc_create(out, e, prop.code(), algorithm.code(), src.handle(), dst.handle(), size,
                        alpha, beta, k, attr(attr)));
    }

    /** Local response normalisation backward. */
    public static PrimitiveDesc lrnBackward(Engine engine, Algorithm algorithm, MemoryDesc diffSrc, MemoryDesc diffDst,
            MemoryDesc src, long size, float alpha, float beta, float k, PrimitiveDesc forward, PrimitiveAttr attr) {
        String what = "lrn " + algorithm + " backward diff_src " + diffSrc + ", diff_dst " + diffDst + ", src " + src;
        return create(engine, "dnnl_lrn_backward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_lrn_backward_primitive_desc_create(out, e, algorithm.code(), diffSrc.handle(), diffDst.handle(),
                        src.handle(), size, alpha, beta, k, hint(forward, dnnl_lrn, "lrn"), attr(attr)));
    }

    /** Batch normalization flags ({@code dnnl_normalization_flags_t}), or-ed together. */
    public static final int USE_GLOBAL_STATS = dnnl_use_global_stats, USE_SCALE = dnnl_use_scale, USE_SHIFT = dnnl_use_shift;

    /**
     * Batch normalization forward: dst = scale (src - mean) / sqrt(variance + epsilon) + shift per
     * channel (dimension 1). With {@link #USE_GLOBAL_STATS} mean and variance are inputs, else the
     * batch's, outputs in forward_training; {@link #USE_SCALE} / {@link #USE_SHIFT} take scale and shift.
     */
    public static PrimitiveDesc batchNormalizationForward(Engine engine, PropKind prop, MemoryDesc src, MemoryDesc dst,
            float epsilon, int flags, PrimitiveAttr attr) {
        String what = "batch normalization " + prop + " src " + src + ", dst " + dst + ", epsilon " + epsilon + ", flags " + flags;
        return create(engine, "dnnl_batch_normalization_forward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_batch_normalization_forward_primitive_desc_create(out, e, prop.code(), src.handle(), dst.handle(), epsilon,
                        flags, attr(attr)));
    }

    /**
     * Batch normalization backward: diff_src, and with {@link PropKind#BACKWARD} also diff_scale
     * and diff_shift (for the flags that use them), from src, mean, variance and diff_dst.
     */
    public static PrimitiveDesc batchNormalizationBackward(Engine engine, PropKind prop, MemoryDesc diffSrc, MemoryDesc diffDst,
            MemoryDesc src, float epsilon, int flags, PrimitiveDesc forward, PrimitiveAttr attr) {
        String what = "batch normalization " + prop + " diff_src " + diffSrc + ", diff_dst " + diffDst + ", src " + src
                + ", epsilon " + epsilon + ", flags " + flags;
        return create(engine, "dnnl_batch_normalization_backward_primitive_desc_create", what, (arena, out, e) ->
                dnnl_batch_normalization_backward_primitive_desc_create(out, e, prop.code(), diffSrc.handle(), diffDst.handle(),
                        src.handle(), epsilon, flags, hint(forward, dnnl_batch_normalization, "batch normalization"), attr(attr)));
    }

    /** Element-wise binary operation dst = src0 op src1. */
    public static PrimitiveDesc binary(Engine engine, Algorithm algorithm, MemoryDesc src0, MemoryDesc src1, MemoryDesc dst,
            PrimitiveAttr attr) {
        String what = "binary " + algorithm + " src0 " + src0 + ", src1 " + src1 + ", dst " + dst;
        return create(engine, "dnnl_binary_primitive_desc_create", what, (arena, out, e) ->
                dnnl_binary_primitive_desc_create(out, e, algorithm.code(), src0.handle(), src1.handle(), dst.handle(),
                        attr(attr)));
    }

    /** dst = sum of scales[i] * srcs[i]; the inputs are arguments {@link Arg#MULTIPLE_SRC} + i. */
    public static PrimitiveDesc sum(Engine engine, MemoryDesc dst, float[] scales, MemoryDesc[] srcs, PrimitiveAttr attr) {
        if (scales.length != srcs.length || srcs.length == 0) {
            throw new IllegalArgumentException("sum needs one scale per input and at least one input; got " + scales.length
                    + " scales for " + srcs.length + " inputs");
        }
        String what = "sum of " + srcs.length + " x " + srcs[0] + " into " + dst;
        return create(engine, "dnnl_sum_primitive_desc_create", what, (arena, out, e) -> {
            MemorySegment handles = arena.allocate(C_POINTER, srcs.length);
            for (int i = 0; i < srcs.length; i++) {
                handles.setAtIndex(C_POINTER, i, srcs[i].handle());
            }
            return dnnl_sum_primitive_desc_create(out, e, dst.handle(), srcs.length, arena.allocateFrom(C_FLOAT, scales),
                    handles, attr(attr));
        });
    }

    /** A copy from one layout to another (same dims and engine). */
    public static PrimitiveDesc reorder(Engine engine, MemoryDesc src, MemoryDesc dst, PrimitiveAttr attr) {
        String what = "reorder " + src + " -> " + dst;
        return create(engine, "dnnl_reorder_primitive_desc_create", what, (arena, out, e) ->
                dnnl_reorder_primitive_desc_create(out, src.handle(), e, dst.handle(), e, attr(attr)));
    }

    /**
     * The descriptor of one of the primitive's memories, e.g. {@code queryMd(dnnl_query_src_md, 0)};
     * null when the primitive has no such memory. The result is a view valid while this
     * descriptor is open.
     */
    MemoryDesc queryMd(int what, int index) {
        MemorySegment md = dnnl_primitive_desc_query_md(handle(), what, index);
        return md.equals(MemorySegment.NULL) ? null : MemoryDesc.borrowed(md, this);
    }

    /** The memory descriptor the primitive expects for execution argument {@code arg} ({@link Arg}); null if none. */
    public MemoryDesc argDesc(int arg) {
        MemoryDesc md = queryMd(dnnl_query_exec_arg_md, arg);
        return md == null || md.isZero() ? null : md;
    }

    public MemoryDesc srcDesc() {
        return argDesc(Arg.SRC);
    }

    public MemoryDesc weightsDesc() {
        return argDesc(Arg.WEIGHTS);
    }

    public MemoryDesc biasDesc() {
        return argDesc(Arg.BIAS);
    }

    public MemoryDesc dstDesc() {
        return argDesc(Arg.DST);
    }

    public MemoryDesc diffSrcDesc() {
        return argDesc(Arg.DIFF_SRC);
    }

    public MemoryDesc diffDstDesc() {
        return argDesc(Arg.DIFF_DST);
    }

    public MemoryDesc diffWeightsDesc() {
        return argDesc(Arg.DIFF_WEIGHTS);
    }

    public MemoryDesc workspaceDesc() {
        return argDesc(Arg.WORKSPACE);
    }

    public MemoryDesc scratchpadDesc() {
        return argDesc(Arg.SCRATCHPAD);
    }

    /** The implementation oneDNN chose, e.g. {@code brg_conv_fwd:avx2} or {@code gemm:jit:f32}. */
    public String implementation() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_primitive_desc_query(handle(), dnnl_query_impl_info_str, 0, out),
                    "dnnl_primitive_desc_query", "impl_info_str");
            return out.get(C_POINTER, 0).reinterpret(4096).getString(0);
        }
    }

    public Engine engine() {
        return engine;
    }

    /** What this descriptor was made for, as given at creation. */
    public String description() {
        return what;
    }

    @Override
    boolean ownerOpen() {
        return engine.isOpen();
    }

    @Override
    void destroy(MemorySegment h) {
        dnnl_primitive_desc_destroy(h);
        engine.release();
    }

    @Override
    public String toString() {
        return isOpen() ? "PrimitiveDesc[" + implementation() + ": " + what + "]" : "PrimitiveDesc[closed]";
    }
}
