package dev.deepnet.tensor;

import dev.deepnet.nativelib.Lifetime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.FloatBuffer;

/**
 * An f32 tensor: a {@link Shape} over a row-major, 64-byte aligned, off-heap {@link MemorySegment}
 * — or, for a plan's internal buffers on oneDNN, over memory in a backend's own {@link Layout},
 * which only ops read and write: the element accessors, copies and views of such a tensor throw
 * {@link IllegalStateException}; {@code Ops.reorder} converts it to a row-major one.
 *
 * <p>Who frees the memory is visible: {@link #allocate(Shape)} gives a tensor that owns its
 * arena (close it, or use try-with-resources); {@link TensorArena#allocate} gives one that its
 * arena (a plan's) frees; {@link #wrap} and the views ({@link #reshape}, {@link #slice}) own
 * nothing and become unusable when their memory is freed. Nothing depends on the garbage
 * collector. Any use of freed memory throws {@link IllegalStateException}.
 *
 * <p>Native code that works on a tensor holds its {@link #lifetime()} for the call (every
 * {@code Ops} call does): closing the tensor, its arena or the tensor a view was taken from
 * meanwhile throws {@link IllegalStateException} and frees nothing. Memory given to
 * {@link #wrap} is the caller's, and so is keeping it alive.
 */
public final class Tensor implements AutoCloseable {

    /** Alignment of tensor data: a cache line; what oneDNN's kernels like. */
    public static final long ALIGNMENT = 64;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    /** Bytes of tensor memory allocated by this JVM so far (never decreases): a steady state adds none. */
    private static final java.util.concurrent.atomic.AtomicLong ALLOCATED = new java.util.concurrent.atomic.AtomicLong();
    /** Bytes of tensor memory allocated and not yet freed (owned tensors and open tensor arenas). */
    private static final java.util.concurrent.atomic.AtomicLong LIVE = new java.util.concurrent.atomic.AtomicLong();

    private final Shape shape;
    private final MemorySegment data; // shape.byteSize() bytes, row-major
    private final Arena owned; // non-null when this tensor owns its memory
    private final Lifetime lifetime; // of the memory: shared with the views, and with every tensor of a TensorArena
    private final Layout layout; // null: row-major

    private Tensor(Shape shape, MemorySegment data, Arena owned, Lifetime lifetime) {
        this(shape, data, owned, lifetime, null);
    }

    private Tensor(Shape shape, MemorySegment data, Arena owned, Lifetime lifetime, Layout layout) {
        this.shape = shape;
        this.data = data;
        this.owned = owned;
        this.lifetime = lifetime;
        this.layout = layout;
    }

    /** A zeroed tensor that owns its memory: close it. */
    public static Tensor allocate(Shape shape) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment data = arena.allocate(shape.byteSize(), ALIGNMENT);
            ALLOCATED.addAndGet(shape.byteSize());
            LIVE.addAndGet(shape.byteSize());
            return new Tensor(shape, data, arena, new Lifetime());
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A zeroed tensor in {@code arena}'s memory, freed when the arena closes; {@code lifetime} is
     * the arena's; {@code layout} null for row-major.
     */
    static Tensor allocate(Arena arena, Lifetime lifetime, Shape shape, Layout layout) {
        long bytes = byteSize(shape, layout);
        MemorySegment data = arena.allocate(bytes, ALIGNMENT);
        ALLOCATED.addAndGet(bytes);
        LIVE.addAndGet(bytes);
        return new Tensor(shape, data, null, lifetime, layout);
    }

    /** Bytes a tensor of this shape takes in this layout (null: row-major); never less than row-major. */
    static long byteSize(Shape shape, Layout layout) {
        return layout == null ? shape.byteSize() : Math.max(shape.byteSize(), layout.byteSize());
    }

    /** A tensor that owns its memory, holding a copy of {@code values}. */
    public static Tensor of(Shape shape, float... values) {
        Tensor t = allocate(shape);
        try {
            t.copyFrom(values);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /**
     * A tensor over the caller's memory, without copying: the segment must be native, hold
     * exactly {@code shape.byteSize()} bytes of row-major f32, and outlive the tensor.
     */
    public static Tensor wrap(MemorySegment segment, Shape shape) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("a tensor needs native (off-heap) memory, not a heap segment");
        }
        if (segment.isReadOnly()) {
            throw new IllegalArgumentException("a tensor needs writable memory; this segment is read-only");
        }
        if (segment.byteSize() != shape.byteSize()) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes cannot hold shape " + shape
                    + " (" + shape.byteSize() + " bytes of f32)");
        }
        return new Tensor(shape, segment, null, new Lifetime());
    }

    /** Total bytes of tensor memory ever allocated in this JVM (for leak checks: it must not grow in a steady state). */
    public static long bytesAllocated() {
        return ALLOCATED.get();
    }

    /**
     * Bytes of tensor memory allocated in this JVM and not yet freed: owned tensors not closed and
     * tensor arenas (plans) not closed. A loop that frees what it makes leaves it unchanged.
     */
    public static long bytesLive() {
        return LIVE.get();
    }

    /** Called by a {@link TensorArena} that has freed {@code bytes} of tensors. */
    static void freed(long bytes) {
        LIVE.addAndGet(-bytes);
    }

    public Shape shape() {
        return shape;
    }

    /** Number of elements. */
    public long size() {
        return shape.size();
    }

    /**
     * The layout of the memory when it is not row-major (a plan's buffer on oneDNN), else null.
     * A tensor's layout never changes.
     */
    public Layout layout() {
        return layout;
    }

    /** Whether the memory is row-major, so that the element accessors, copies and views work. */
    public boolean isRowMajor() {
        return layout == null;
    }

    /** Throws unless the memory is row-major: what every element accessor needs. */
    private void requireRowMajor() {
        if (layout != null) {
            throw new IllegalStateException("tensor " + shape + " is in the backend layout " + layout.tag()
                    + ", not row-major: convert it with Ops.reorder into a row-major tensor to read or write its elements");
        }
    }

    /**
     * The data, in row-major order or, when {@link #layout()} is not null, in that layout; throws
     * {@link IllegalStateException} when the memory was freed.
     */
    public MemorySegment segment() {
        if (!isOpen()) {
            throw new IllegalStateException("tensor " + shape + " is closed (its memory was freed)");
        }
        return data;
    }

    /** Whether the data can still be used. */
    public boolean isOpen() {
        return lifetime.isAlive() && data.scope().isAlive();
    }

    /**
     * The lifetime of this tensor's memory. Code that hands the memory to native code acquires it
     * for the call, so the memory cannot be freed meanwhile; views share it with their tensor.
     */
    public Lifetime lifetime() {
        return lifetime;
    }

    /** The same data seen with another shape of the same size; no copy. */
    public Tensor reshape(Shape newShape) {
        requireRowMajor();
        if (newShape.size() != shape.size()) {
            throw new IllegalArgumentException("cannot reshape " + shape + " (" + shape.size() + " elements) to " + newShape
                    + " (" + newShape.size() + " elements)");
        }
        return new Tensor(newShape, segment(), null, lifetime);
    }

    /** Entries {@code from} (inclusive) to {@code to} (exclusive) along dimension 0; no copy. */
    public Tensor slice(long from, long to) {
        requireRowMajor();
        if (from < 0 || to > shape.dim(0) || from >= to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") is outside dimension 0 of " + shape);
        }
        long row = shape.byteSize() / shape.dim(0);
        return new Tensor(shape.withDim(0, to - from), segment().asSlice(from * row, (to - from) * row), null, lifetime);
    }

    public float get(long... index) {
        requireRowMajor();
        return segment().getAtIndex(F32, offset(index));
    }

    public void set(float value, long... index) {
        requireRowMajor();
        segment().setAtIndex(F32, offset(index), value);
    }

    /** Element at flat row-major position {@code i}. */
    public float getFlat(long i) {
        requireRowMajor();
        return segment().getAtIndex(F32, i);
    }

    public void setFlat(long i, float value) {
        requireRowMajor();
        segment().setAtIndex(F32, i, value);
    }

    private long offset(long[] index) {
        if (index.length != shape.rank()) {
            throw new IllegalArgumentException("index of rank " + index.length + " for tensor " + shape);
        }
        long off = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape.dim(i)) {
                throw new IndexOutOfBoundsException("index " + java.util.Arrays.toString(index) + " outside " + shape);
            }
            off = off * shape.dim(i) + index[i];
        }
        return off;
    }

    public Tensor copyFrom(float[] values) {
        requireRowMajor();
        checkLength(values.length, "array");
        MemorySegment.copy(values, 0, segment(), F32, 0, values.length);
        return this;
    }

    /** Copies {@code size()} floats from the buffer's position (which does not move). */
    public Tensor copyFrom(FloatBuffer buffer) {
        requireRowMajor();
        checkLength(buffer.remaining(), "buffer (remaining)");
        segment().copyFrom(MemorySegment.ofBuffer(buffer).asSlice(0, shape.byteSize()));
        return this;
    }

    /** Copies {@code size()} floats from {@code source}, which must hold exactly that many bytes. */
    public Tensor copyFrom(MemorySegment source) {
        requireRowMajor();
        if (source.byteSize() != shape.byteSize()) {
            throw new IllegalArgumentException("segment of " + source.byteSize() + " bytes does not match tensor " + shape
                    + " (" + shape.byteSize() + " bytes)");
        }
        segment().copyFrom(source);
        return this;
    }

    /** Copies another tensor's data; the shapes must be equal. */
    public Tensor copyFrom(Tensor source) {
        requireRowMajor();
        source.requireRowMajor();
        if (!source.shape.equals(shape)) {
            throw new IllegalArgumentException("cannot copy a tensor of shape " + source.shape + " into one of shape " + shape);
        }
        segment().copyFrom(source.segment());
        return this;
    }

    public void copyTo(float[] values) {
        requireRowMajor();
        checkLength(values.length, "array");
        MemorySegment.copy(segment(), F32, 0, values, 0, values.length);
    }

    public void copyTo(FloatBuffer buffer) {
        requireRowMajor();
        checkLength(buffer.remaining(), "buffer (remaining)");
        MemorySegment.ofBuffer(buffer).asSlice(0, shape.byteSize()).copyFrom(segment());
    }

    public float[] toArray() {
        requireRowMajor();
        return segment().toArray(F32);
    }

    /** Sets every element; only zero in a backend layout (whose padding must stay zero). */
    public Tensor fill(float value) {
        MemorySegment s = segment();
        if (value != 0f) {
            requireRowMajor();
        }
        if (value == 0f) {
            s.fill((byte) 0);
        } else {
            for (long i = 0; i < shape.size(); i++) {
                s.setAtIndex(F32, i, value);
            }
        }
        return this;
    }

    private void checkLength(long length, String what) {
        if (length != shape.size()) {
            throw new IllegalArgumentException(what + " of " + length + " floats does not match tensor " + shape + " ("
                    + shape.size() + " floats)");
        }
    }

    /**
     * Frees the memory when this tensor owns it; does nothing for views, tensors of a
     * {@link TensorArena} and wrapped memory. Throws {@link IllegalStateException}, freeing
     * nothing, while a native call on another thread uses the memory.
     */
    @Override
    public void close() {
        if (owned != null && lifetime.end(this)) {
            owned.close();
            LIVE.addAndGet(-shape.byteSize()); // owned tensors are row-major
        }
    }

    @Override
    public String toString() {
        return "Tensor" + shape + (layout == null ? "" : " " + layout.tag()) + (isOpen() ? "" : " (closed)");
    }
}
