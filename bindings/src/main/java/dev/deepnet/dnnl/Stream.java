package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A oneDNN stream: the queue primitives execute on. On the CPU, execution is synchronous. */
public final class Stream extends NativeHandle {

    private final Engine engine;

    /** A default stream on {@code engine}. */
    public Stream(Engine engine) {
        super("Stream", create(engine));
        this.engine = engine;
    }

    private static MemorySegment create(Engine engine) {
        MemorySegment e = engine.retain();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_stream_create(out, e, dnnl_stream_default_flags), "dnnl_stream_create");
            return out.get(C_POINTER, 0);
        } catch (RuntimeException | Error ex) {
            engine.release();
            throw ex;
        }
    }

    public Engine engine() {
        return engine;
    }

    /** Blocks until everything submitted to this stream has finished. */
    public void waitFor() {
        DnnlException.check(dnnl_stream_wait(handle()), "dnnl_stream_wait");
    }

    @Override
    boolean ownerOpen() {
        return engine.isOpen();
    }

    @Override
    void destroy(MemorySegment h) {
        dnnl_stream_destroy(h);
        engine.release();
    }
}
