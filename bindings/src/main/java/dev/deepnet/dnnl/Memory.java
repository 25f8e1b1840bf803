package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A oneDNN memory object: a descriptor bound to a buffer.
 *
 * <p>The buffer is either allocated here (64-byte aligned, zeroed, in an arena this memory owns
 * and closes) or a caller's native segment that must stay alive while the memory is used: every
 * use checks that it is, so a buffer freed too early gives {@link IllegalStateException}, never a
 * read of freed memory.
 */
public final class Memory extends NativeHandle {

    /** Alignment of buffers allocated here: a cache line, and what AVX-512 loads like best. */
    public static final long ALIGNMENT = 64;

    private final Engine engine;
    private final Arena arena; // non-null when this memory owns its buffer
    private final MemoryDesc desc; // borrowed from this memory
    private final long size;
    private volatile MemorySegment data;

    private Memory(MemorySegment handle, Engine engine, Arena arena, MemorySegment data, long size) {
        super("Memory", handle);
        this.engine = engine;
        this.arena = arena;
        this.data = data;
        this.size = size;
        MemoryDesc d;
        try {
            d = MemoryDesc.borrowed(queryDesc(handle), this);
        } catch (RuntimeException | Error e) {
            close(); // destroys the C memory and releases the engine; the caller closes its arena
            throw e;
        }
        this.desc = d;
    }

    private static MemorySegment queryDesc(MemorySegment memory) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(C_POINTER);
            DnnlException.check(dnnl_memory_get_memory_desc(memory, out), "dnnl_memory_get_memory_desc");
            return out.get(C_POINTER, 0);
        }
    }

    /** A memory with a new zeroed, 64-byte aligned buffer of {@code desc.sizeInBytes()} bytes. */
    public static Memory allocate(MemoryDesc desc, Engine engine) {
        long size = desc.sizeInBytes();
        if (size == 0 && !desc.isZero()) {
            throw new IllegalArgumentException("oneDNN reports 0 bytes for the non-empty descriptor " + desc);
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment data = size == 0 ? MemorySegment.NULL : arena.allocate(size, ALIGNMENT);
            return new Memory(create(desc, engine, data), engine, arena, data, size);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A memory over the caller's native buffer, without copying. The buffer must hold at least
     * {@code desc.sizeInBytes()} bytes and outlive every use of this memory.
     */
    public static Memory wrap(MemoryDesc desc, Engine engine, MemorySegment data) {
        long size = desc.sizeInBytes();
        checkBuffer(data, size, desc);
        return new Memory(create(desc, engine, data), engine, null, data, size);
    }

    private static MemorySegment create(MemoryDesc desc, Engine engine, MemorySegment data) {
        MemorySegment e = engine.retain();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(C_POINTER);
            DnnlException.check(dnnl_memory_create(out, desc.handle(), e, data), "dnnl_memory_create", desc.toString());
            return out.get(C_POINTER, 0);
        } catch (RuntimeException | Error ex) {
            engine.release();
            throw ex;
        }
    }

    private static void checkBuffer(MemorySegment data, long size, MemoryDesc desc) {
        if (!data.isNative()) {
            throw new IllegalArgumentException("oneDNN memory needs a native (off-heap) segment, not a heap segment");
        }
        if (data.isReadOnly()) {
            throw new IllegalArgumentException("oneDNN memory needs a writable segment; this one is read-only");
        }
        if (!data.scope().isAlive()) {
            throw new IllegalStateException("the buffer's arena is already closed");
        }
        if (data.byteSize() < size) {
            throw new IllegalArgumentException("buffer of " + data.byteSize() + " bytes is too small for " + desc
                    + ", which needs " + size + " bytes");
        }
    }

    /** Points this memory at another caller-owned buffer (same size rules as {@link #wrap}). */
    public void setData(MemorySegment newData) {
        checkBuffer(newData, size, desc);
        if (arena != null) {
            throw new IllegalStateException("this memory owns its buffer; only a wrapped memory can be re-pointed");
        }
        MemorySegment h = holdHandle();
        try {
            if (newData.address() != data.address()) { // a plan re-points at the same buffers every step: no downcall then
                DnnlException.check(dnnl_memory_set_data_handle(h, newData), "dnnl_memory_set_data_handle");
            }
            data = newData; // the segment whose liveness every execution checks
        } finally {
            releaseHandle();
        }
    }

    /** The descriptor (a view valid while this memory is open). */
    public MemoryDesc desc() {
        return desc;
    }

    public Engine engine() {
        return engine;
    }

    /** Size of the buffer as the descriptor defines it. */
    public long byteSize() {
        return size;
    }

    /** The buffer: exactly {@link #byteSize()} bytes; unusable after close when this memory owns it. */
    public MemorySegment data() {
        handle(); // throws when closed
        MemorySegment d = data;
        return d.equals(MemorySegment.NULL) ? d : d.asSlice(0, size);
    }

    /**
     * Holds this memory for a native call (until {@link #releaseBuffer}); throws unless it, its
     * engine and its buffer are all usable.
     */
    void acquireBuffer() {
        holdHandle();
        if (!data.equals(MemorySegment.NULL) && !data.scope().isAlive()) {
            releaseHandle();
            throw new IllegalStateException("the buffer of memory " + desc + " was freed (its arena is closed)");
        }
    }

    void releaseBuffer() {
        releaseHandle();
    }

    @Override
    boolean ownerOpen() {
        return engine.isOpen();
    }

    @Override
    void destroy(MemorySegment h) {
        dnnl_memory_destroy(h);
        engine.release();
        if (arena != null) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return isOpen() ? "Memory[" + desc + "]" : "Memory[closed]";
    }
}
