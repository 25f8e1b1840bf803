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
     * Forward convolution. src (N, C, H, W), weights (O, C, kH, kW), bias (O) or null,
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
