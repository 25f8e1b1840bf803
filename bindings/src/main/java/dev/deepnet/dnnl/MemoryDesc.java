package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A memory descriptor: the logical dimensions, element type and physical layout of a tensor.
 *
 * <p>Either owned (created here, destroyed on close) or a view borrowed from the primitive
 * descriptor or memory it was queried from: a view needs no closing, and becomes unusable
 * (throws {@link IllegalStateException}) once its owner is closed.
 */
public final class MemoryDesc extends NativeHandle {

    private final NativeHandle owner; // null when this descriptor owns its handle

    private MemoryDesc(MemorySegment handle, NativeHandle owner) {
        super("MemoryDesc", handle);
        this.owner = owner;
    }

    /** A descriptor with the given dims, type and format ({@link FormatTag#ANY} lets a primitive choose). */
    public static MemoryDesc of(DataType type, FormatTag tag, long... dims) {
        checkDims(dims);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_memory_desc_create_with_tag(out, dims.length, arena.allocateFrom(C_LONG, dims),
                    type.code(), tag.code()), "dnnl_memory_desc_create_with_tag",
                    type + " " + Arrays.toString(dims) + " " + tag);
            return new MemoryDesc(out.get(C_POINTER, 0), null);
        }
    }

    /** A plain descriptor given by strides (in elements) per dimension. */
    public static MemoryDesc withStrides(DataType type, long[] dims, long[] strides) {
        checkDims(dims);
        if (strides.length != dims.length) {
            throw new IllegalArgumentException("strides " + Arrays.toString(strides) + " do not match dims " + Arrays.toString(dims));
        }
        long span = 1;
        for (int i = 0; i < dims.length; i++) {
            if (strides[i] < 0) {
                throw new IllegalArgumentException("strides must not be negative: " + Arrays.toString(strides));
            }
            try {
                span = Math.addExact(span, Math.multiplyExact(dims[i] - 1, strides[i]));
                Math.multiplyExact(span, 16L);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("strides " + Arrays.toString(strides) + " over dims " + Arrays.toString(dims)
                        + " describe more memory than can be addressed");
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_memory_desc_create_with_strides(out, dims.length, arena.allocateFrom(C_LONG, dims),
                    type.code(), arena.allocateFrom(C_LONG, strides)), "dnnl_memory_desc_create_with_strides",
                    type + " dims " + Arrays.toString(dims) + " strides " + Arrays.toString(strides));
            return new MemoryDesc(out.get(C_POINTER, 0), null);
        }
    }

    /** A view of a descriptor that {@code owner} keeps alive (queried from it). */
    static MemoryDesc borrowed(MemorySegment handle, NativeHandle owner) {
        return new MemoryDesc(handle, owner);
    }

    private static void checkDims(long[] dims) {
        if (dims.length < 1 || dims.length > DNNL_MAX_NDIMS) {
            throw new IllegalArgumentException("a memory descriptor has 1 to " + DNNL_MAX_NDIMS + " dimensions, not " + dims.length);
        }
        // oneDNN computes sizes without overflow checks: a wrapped size would give a tiny buffer
        // that kernels then overrun. Bound the bytes here (16 per element covers any data type
        // plus blocked-layout padding to 16 channels).
        long elements = 1;
        for (long d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("dimensions must be positive: " + Arrays.toString(dims));
            }
            try {
                elements = Math.multiplyExact(elements, d + 15);
                Math.multiplyExact(elements, 16L);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("dimensions " + Arrays.toString(dims) + " describe more memory than can be addressed");
            }
        }
    }

    /** An owned copy, independent of this descriptor's owner. */
    public MemoryDesc copy() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_memory_desc_clone(out, handle()), "dnnl_memory_desc_clone");
            return new MemoryDesc(out.get(C_POINTER, 0), null);
        }
    }

    /** Whether this is an owned descriptor (closing it matters) rather than a borrowed view. */
    public boolean isOwned() {
        return owner == null;
    }

    public int ndims() {
        return queryInt(dnnl_query_ndims_s32);
    }

    /** Logical dimensions, in the order of the primitive's conventions (e.g. N, C, H, W). */
    public long[] dims() {
        return queryDims(dnnl_query_dims);
    }

    /** Strides in elements between the outermost blocks (blocked formats only). */
    public long[] strides() {
        return queryDims(dnnl_query_strides);
    }

    public DataType dataType() {
        return DataType.of(queryInt(dnnl_query_data_type));
    }

    /** Number of inner blocks of a blocked layout; 0 for plain layouts. */
    public int innerBlockCount() {
        return queryInt(dnnl_query_inner_nblks_s32);
    }

    /** Bytes a memory with this descriptor needs (0 for the zero descriptor). */
    public long sizeInBytes() {
        return dnnl_memory_desc_get_size(handle());
    }

    /** Whether this is the zero descriptor, which stands for "no such argument". */
    public boolean isZero() {
        return queryInt(dnnl_query_ndims_s32) == 0;
    }

    /** Sizes of the inner blocks of a blocked layout, outermost first (empty for plain layouts). */
    public long[] innerBlocks() {
        return queryArray(dnnl_query_inner_blks, innerBlockCount());
    }

    /** The logical dimension each inner block splits, in {@link #innerBlocks()}'s order. */
    public long[] innerIndices() {
        return queryArray(dnnl_query_inner_idxs, innerBlockCount());
    }

    /**
     * oneDNN's name of this layout as a format tag — {@code abcd} (row-major), {@code acdb}
     * (channels last), {@code aBcd16b} (channels in blocks of 16) — or null when it is not a
     * blocked layout that a tag names. Letters list the dimensions from outermost to innermost
     * in memory, upper case for a dimension split in blocks; the inner blocks follow, outermost
     * first. Dimensions of size 1 make strides ambiguous: check {@link #withTag} of the result
     * with {@link #sameLayout} before relying on it.
     */
    public String formatTag() {
        if (queryInt(dnnl_query_format_kind) != dnnl_blocked) {
            return null;
        }
        int n = ndims();
        long[] strides = strides();
        long[] blocks = innerBlocks();
        long[] indices = innerIndices();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        // Outermost first: larger stride first; equal strides keep logical order.
        Arrays.sort(order, (x, y) -> strides[x] != strides[y] ? Long.compare(strides[y], strides[x]) : Integer.compare(x, y));
        boolean[] blocked = new boolean[n];
        for (long idx : indices) {
            blocked[(int) idx] = true;
        }
        StringBuilder tag = new StringBuilder();
        for (int d : order) {
            char letter = (char) ('a' + d);
            tag.append(blocked[d] ? Character.toUpperCase(letter) : letter);
        }
        for (int i = 0; i < blocks.length; i++) {
            tag.append(blocks[i]).append((char) ('a' + indices[i]));
        }
        return tag.toString();
    }

    /**
     * A descriptor in the layout a format tag names (see {@link #formatTag()}), e.g. {@code "aBcd16b"}.
     * Throws {@link IllegalArgumentException} for a name oneDNN does not define or of another rank.
     */
    public static MemoryDesc withTag(DataType type, String tag, long... dims) {
        checkDims(dims);
        int code = FormatTag.codeOf(tag);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_memory_desc_create_with_tag(out, dims.length, arena.allocateFrom(C_LONG, dims),
                    type.code(), code), "dnnl_memory_desc_create_with_tag", type + " " + Arrays.toString(dims) + " " + tag);
            return new MemoryDesc(out.get(C_POINTER, 0), null);
        }
    }

    /** Whether two descriptors describe the same layout ({@code dnnl_memory_desc_equal}). */
    public boolean sameLayout(MemoryDesc other) {
        return dnnl_memory_desc_equal(handle(), other.handle()) != 0;
    }

    private int queryInt(int what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_INT);
            DnnlException.check(dnnl_memory_desc_query(handle(), what, out), "dnnl_memory_desc_query");
            return out.get(C_INT, 0);
        }
    }

    private long[] queryArray(int what, int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_memory_desc_query(handle(), what, out), "dnnl_memory_desc_query");
            return out.get(C_POINTER, 0).reinterpret((long) DNNL_MAX_NDIMS * Long.BYTES).asSlice(0, (long) n * Long.BYTES)
                    .toArray(ValueLayout.JAVA_LONG);
        }
    }

    private long[] queryDims(int what) {
        return queryArray(what, ndims());
    }

    @Override
    boolean ownerOpen() {
        return owner == null || owner.isOpen();
    }

    @Override
    boolean owns() {
        return owner == null;
    }

    @Override
    NativeHandle owner() {
        return owner == null ? this : owner;
    }

    @Override
    void destroy(MemorySegment h) {
        if (owner == null) {
            dnnl_memory_desc_destroy(h);
        }
    }

    /** E.g. {@code f32 (2, 3, 17, 19) strides (969, 323, 19, 1)}, or with its inner block count. */
    @Override
    public String toString() {
        if (!isOpen()) {
            return "MemoryDesc[closed]";
        }
        if (isZero()) {
            return "MemoryDesc[zero]";
        }
        StringBuilder sb = new StringBuilder().append(dataType().name().toLowerCase(java.util.Locale.ROOT))
                .append(' ').append(tuple(dims()));
        if (queryInt(dnnl_query_format_kind) == dnnl_blocked) {
            sb.append(" strides ").append(tuple(strides()));
            int blocks = innerBlockCount();
            if (blocks > 0) {
                sb.append(" + ").append(blocks).append(" inner block(s)");
            }
        } else {
            sb.append(" format kind ").append(queryInt(dnnl_query_format_kind));
        }
        return sb.toString();
    }

    private static String tuple(long[] values) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(values[i]);
        }
        return sb.append(')').toString();
    }
}
