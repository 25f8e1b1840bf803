package dev.deepnet.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Misuse of the handles gives a Java exception that says what is wrong, never a native crash. */
class HandleSafetyTest {

    @Test
    void useAfterCloseThrowsIllegalStateAndCloseIsIdempotent() {
        MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, 2, 2);
        md.close();
        md.close();
        assertFalse(md.isOpen());
        IllegalStateException e = assertThrows(IllegalStateException.class, md::dims);
        assertTrue(e.getMessage().contains("MemoryDesc is closed"), e.getMessage());
    }

    @Test
    void aDescriptorQueriedFromAPrimitiveDescDiesWithIt() {
        try (Engine engine = Engine.cpu(); MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, 2, 2)) {
            PrimitiveDesc pd = PrimitiveDesc.matmul(engine, md, md, null, md, null);
            MemoryDesc dst = pd.dstDesc();
            assertFalse(dst.isOwned());
            assertEquals(2, dst.ndims());
            pd.close();
            assertThrows(IllegalStateException.class, dst::ndims);
            dst.close(); // closing a view does nothing harmful
        }
    }

    @Test
    void oneDnnErrorsNameTheFunctionAndStatus() {
        try (Engine engine = Engine.cpu();
             MemoryDesc src = MemoryDesc.of(DataType.F32, FormatTag.AB, 4, 5);
             MemoryDesc wei = MemoryDesc.of(DataType.F32, FormatTag.AB, 6, 3); // K = 5 vs 6
             MemoryDesc dst = MemoryDesc.of(DataType.F32, FormatTag.AB, 4, 3)) {
            DnnlException e = assertThrows(DnnlException.class, () -> PrimitiveDesc.matmul(engine, src, wei, null, dst, null));
            assertTrue(e instanceof DnnlException.InvalidArguments, e.getClass().getName());
            assertEquals("dnnl_matmul_primitive_desc_create", e.function());
            assertEquals(Status.INVALID_ARGUMENTS, e.status());
            assertTrue(e.getMessage().contains("dnnl_matmul_primitive_desc_create failed: invalid_arguments"), e.getMessage());
            assertTrue(e.getMessage().contains("ONEDNN_VERBOSE=all"), e.getMessage());
            assertTrue(e.getMessage().contains("f32 (6, 3)"), "names what was asked: " + e.getMessage());
        }
    }

    @Test
    void badDimensionsAreRejectedBeforeReachingC() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemoryDesc.of(DataType.F32, FormatTag.AB, 3, 0));
        assertTrue(e.getMessage().contains("[3, 0]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MemoryDesc.of(DataType.F32, FormatTag.A));
    }

    @Test
    void executionChecksEveryArgumentBeforeCallingC() {
        try (Engine engine = Engine.cpu(); Stream stream = new Stream(engine);
             MemoryDesc ab = MemoryDesc.of(DataType.F32, FormatTag.AB, 4, 4);
             MemoryDesc ba = MemoryDesc.of(DataType.F32, FormatTag.BA, 4, 4);
             MemoryDesc small = MemoryDesc.of(DataType.F32, FormatTag.AB, 2, 2);
             PrimitiveDesc pd = PrimitiveDesc.matmul(engine, ab, ab, null, ab, null);
             Primitive matmul = new Primitive(pd);
             Memory a = Memory.allocate(ab, engine);
             Memory transposed = Memory.allocate(ba, engine);
             Memory wrongShape = Memory.allocate(small, engine);
             Memory c = Memory.allocate(ab, engine)) {
            MemorySegment before = c.data().fill((byte) 7);
            byte[] untouched = before.toArray(ValueLayout.JAVA_BYTE);

            IllegalArgumentException layout = assertThrows(IllegalArgumentException.class,
                    () -> matmul.execute(stream, Map.of(Arg.SRC, a, Arg.WEIGHTS, transposed, Arg.DST, c)));
            assertTrue(layout.getMessage().contains("argument 'weights'"), layout.getMessage());
            assertTrue(layout.getMessage().contains("strides (1, 4)"), "shows the wrong layout: " + layout.getMessage());

            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> matmul.execute(stream, Map.of(Arg.SRC, wrongShape, Arg.WEIGHTS, a, Arg.DST, c)));
            assertTrue(shape.getMessage().contains("f32 (2, 2)"), shape.getMessage());

            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> matmul.execute(stream, Map.of(Arg.SRC, a, Arg.DST, c)));
            assertTrue(missing.getMessage().contains("missing argument(s) weights"), missing.getMessage());

            IllegalArgumentException extra = assertThrows(IllegalArgumentException.class,
                    () -> matmul.execute(stream, Map.of(Arg.SRC, a, Arg.WEIGHTS, a, Arg.DST, c, Arg.WORKSPACE, a)));
            assertTrue(extra.getMessage().contains("takes no argument 'workspace'"), extra.getMessage());

            assertEquals(java.util.Arrays.toString(untouched), java.util.Arrays.toString(c.data().toArray(ValueLayout.JAVA_BYTE)),
                    "a rejected execution leaves the output untouched");
        }
    }

    @Test
    void argumentsCheckedOnceAreCheckedAgainAfterAnyChange() {
        try (Engine engine = Engine.cpu(); Stream stream = new Stream(engine);
             MemoryDesc ab = MemoryDesc.of(DataType.F32, FormatTag.AB, 4, 4);
             MemoryDesc ba = MemoryDesc.of(DataType.F32, FormatTag.BA, 4, 4);
             PrimitiveDesc pd = PrimitiveDesc.matmul(engine, ab, ab, null, ab, null);
             PrimitiveDesc other = PrimitiveDesc.matmul(engine, ba, ab, null, ab, null);
             Primitive matmul = new Primitive(pd);
             Primitive transposedMatmul = new Primitive(other);
             Memory a = Memory.allocate(ab, engine);
             Memory transposed = Memory.allocate(ba, engine);
             Memory c = Memory.allocate(ab, engine);
             ExecArgs args = new ExecArgs(3)) {
            args.set(Arg.SRC, a).set(Arg.WEIGHTS, a).set(Arg.DST, c);
            matmul.execute(stream, args);
            matmul.execute(stream, args); // checked once, still fine
            args.set(Arg.WEIGHTS, transposed); // a change: checked again, and refused
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> matmul.execute(stream, args));
            assertTrue(e.getMessage().contains("argument 'weights'"), e.getMessage());
            args.set(Arg.WEIGHTS, a);
            matmul.execute(stream, args);
            // checked against one primitive says nothing about another
            IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> transposedMatmul.execute(stream, args));
            assertTrue(p.getMessage().contains("argument 'src'"), p.getMessage());
            c.close(); // liveness is checked on every execution
            assertThrows(IllegalStateException.class, () -> matmul.execute(stream, args));
        }
    }

    @Test
    void aWrappedBufferFreedTooEarlyIsCaughtNotRead() {
        try (Engine engine = Engine.cpu(); Stream stream = new Stream(engine);
             MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, 4, 4);
             PrimitiveDesc pd = PrimitiveDesc.matmul(engine, md, md, null, md, null);
             Primitive matmul = new Primitive(pd);
             Memory c = Memory.allocate(md, engine)) {
            Arena arena = Arena.ofConfined();
            Memory a = Memory.wrap(md, engine, arena.allocate(md.sizeInBytes(), 64));
            arena.close();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> matmul.execute(stream, Map.of(Arg.SRC, a, Arg.WEIGHTS, a, Arg.DST, c)));
            assertTrue(e.getMessage().contains("freed"), e.getMessage());
            a.close();
        }
    }

    @Test
    void wrappingChecksTheBuffer() {
        try (Engine engine = Engine.cpu(); Arena arena = Arena.ofConfined();
             MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, 4, 4)) {
            IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                    () -> Memory.wrap(md, engine, arena.allocate(63)));
            assertTrue(small.getMessage().contains("63 bytes is too small"), small.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Memory.wrap(md, engine, MemorySegment.ofArray(new float[16])));
        }
    }

    @Test
    void closingTheEngineFirstLeavesDependentsUnusableButSafeToClose() {
        Engine engine = Engine.cpu();
        Stream stream = new Stream(engine);
        Memory m;
        try (MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.A, 8)) {
            m = Memory.allocate(md, engine);
        }
        MemorySegment data = m.data();
        engine.close();
        assertThrows(IllegalStateException.class, m::data);
        assertThrows(IllegalStateException.class, stream::waitFor);
        assertThrows(IllegalStateException.class, () -> new Stream(engine));
        m.close();
        stream.close(); // the last dependent: the engine's C handle is destroyed now
        assertThrows(IllegalStateException.class, () -> data.get(ValueLayout.JAVA_FLOAT, 0), "the owned buffer is freed with its memory");
    }

    @Test
    void reportsVersionAndIsa() {
        Dnnl.Version v = Dnnl.version();
        assertEquals(3, v.major());
        assertEquals(8, v.minor());
        assertEquals(1, v.patch());
        assertEquals("OpenMP", v.cpuRuntime());
        assertTrue(v.hash().matches("[0-9a-f]{40}"), v.hash());
        CpuIsa isa = Dnnl.effectiveCpuIsa();
        assertTrue(isa != CpuIsa.DEFAULT, "oneDNN reports the ISA it generates code for, got " + isa);
    }

    @Test
    void backwardDescriptorsRequireAMatchingForwardTrainingHint() {
        try (Engine engine = Engine.cpu();
             MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.ABCD8B, 1, 8, 4, 4);
             MemoryDesc out = MemoryDesc.of(DataType.F32, FormatTag.ABCD8B, 1, 8, 2, 2);
             PrimitiveDesc inference = PrimitiveDesc.poolingForward(engine, PropKind.FORWARD_INFERENCE, Algorithm.POOLING_MAX, md, out,
                     new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0}, new long[] {0, 0}, new long[] {0, 0}, null);
             PrimitiveDesc eltwise = PrimitiveDesc.eltwiseForward(engine, PropKind.FORWARD_TRAINING, Algorithm.ELTWISE_RELU, md, md,
                     0f, 0f, null)) {
            long[] two = {2, 2};
            long[] zero = {0, 0};
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> PrimitiveDesc.poolingBackward(engine,
                    Algorithm.POOLING_MAX, md, out, two, two, zero, zero, zero, null, null));
            assertTrue(none.getMessage().contains("needs its forward_training primitive descriptor"), none.getMessage());
            IllegalArgumentException wrongProp = assertThrows(IllegalArgumentException.class, () -> PrimitiveDesc.poolingBackward(engine,
                    Algorithm.POOLING_MAX, md, out, two, two, zero, zero, zero, inference, null));
            assertTrue(wrongProp.getMessage().contains("forward_training hint"), wrongProp.getMessage());
            IllegalArgumentException wrongKind = assertThrows(IllegalArgumentException.class, () -> PrimitiveDesc.poolingBackward(engine,
                    Algorithm.POOLING_MAX, md, out, two, two, zero, zero, zero, eltwise, null));
            assertTrue(wrongKind.getMessage().contains("not a pooling forward descriptor"), wrongKind.getMessage());
        }
    }

    @Test
    void closingABorrowedViewDoesNotBreakItsOwner() {
        try (Engine engine = Engine.cpu(); Stream stream = new Stream(engine);
             MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, 2, 2);
             PrimitiveDesc pd = PrimitiveDesc.matmul(engine, md, md, null, md, null);
             Primitive matmul = new Primitive(pd);
             Memory a = Memory.allocate(md, engine); Memory c = Memory.allocate(md, engine)) {
            try (MemoryDesc view = a.desc()) {
                assertEquals(2, view.ndims());
            }
            pd.dstDesc().close();
            assertTrue(a.desc().isOpen());
            matmul.execute(stream, Map.of(Arg.SRC, a, Arg.WEIGHTS, a, Arg.DST, c)); // still fine
            assertEquals(2, pd.dstDesc().ndims());
        }
    }

    @Test
    void sizesThatWouldOverflowInsideOneDnnAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemoryDesc.of(DataType.F32, FormatTag.A, (1L << 62) + 1));
        assertTrue(e.getMessage().contains("more memory than can be addressed"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> MemoryDesc.of(DataType.F32, FormatTag.AB, 1L << 31, 1L << 31));
        assertThrows(IllegalArgumentException.class,
                () -> MemoryDesc.withStrides(DataType.F32, new long[] {4, 4}, new long[] {Long.MAX_VALUE / 2, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> MemoryDesc.withStrides(DataType.F32, new long[] {4, 4}, new long[] {-4, 1}));
    }

    @Test
    void readOnlyBuffersAreRejected() {
        try (Engine engine = Engine.cpu(); Arena arena = Arena.ofConfined();
             MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.A, 4)) {
            MemorySegment readOnly = arena.allocate(16).asReadOnly();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Memory.wrap(md, engine, readOnly));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        }
    }
}
