package dev.deepnet.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void dataIs64ByteAlignedZeroedAndRowMajor() {
        try (Tensor t = Tensor.allocate(Shape.of(2, 3, 4))) {
            assertEquals(0, t.segment().address() % 64);
            assertEquals(24 * 4, t.segment().byteSize());
            assertEquals(0f, t.get(1, 2, 3));
            t.set(5f, 1, 2, 3);
            assertEquals(5f, t.getFlat(23));
            assertEquals("(2, 3, 4)", t.shape().toString());
            assertArrayEquals(new long[] {12, 4, 1}, t.shape().strides());
        }
    }

    @Test
    void copiesInAndOutOfArraysBuffersAndSegments() {
        float[] values = {1, 2, 3, 4, 5, 6};
        try (Tensor t = Tensor.of(Shape.of(2, 3), values); Arena arena = Arena.ofConfined()) {
            assertArrayEquals(values, t.toArray());
            FloatBuffer buffer = FloatBuffer.allocate(6);
            t.copyTo(buffer);
            assertEquals(4f, buffer.get(3));
            MemorySegment seg = arena.allocate(24);
            seg.copyFrom(t.segment());
            try (Tensor u = Tensor.allocate(Shape.of(2, 3))) {
                u.copyFrom(seg);
                assertArrayEquals(values, u.toArray());
                u.copyFrom(FloatBuffer.wrap(new float[] {6, 5, 4, 3, 2, 1}));
                assertEquals(6f, u.getFlat(0));
                u.copyFrom(t);
                assertArrayEquals(values, u.toArray());
            }
        }
    }

    @Test
    void mismatchesNameBothShapesAndChangeNothing() {
        try (Tensor t = Tensor.of(Shape.of(2, 3), 1, 2, 3, 4, 5, 6); Tensor other = Tensor.allocate(Shape.of(3, 2))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.copyFrom(other));
            assertTrue(e.getMessage().contains("(3, 2)") && e.getMessage().contains("(2, 3)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[5]));
            IllegalArgumentException r = assertThrows(IllegalArgumentException.class, () -> t.reshape(Shape.of(4, 2)));
            assertTrue(r.getMessage().contains("(2, 3)") && r.getMessage().contains("(4, 2)"), r.getMessage());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toArray());
        }
    }

    @Test
    void viewsShareMemoryAndDieWithTheirOwner() {
        Tensor t = Tensor.of(Shape.of(4, 2), 0, 1, 2, 3, 4, 5, 6, 7);
        Tensor rows = t.slice(1, 3);
        Tensor flat = t.reshape(Shape.of(8));
        assertEquals(Shape.of(2, 2), rows.shape());
        assertArrayEquals(new float[] {2, 3, 4, 5}, rows.toArray());
        rows.setFlat(0, 42f);
        assertEquals(42f, flat.getFlat(2), "a view writes through to the same memory");
        rows.close(); // a view owns nothing
        assertTrue(t.isOpen());
        t.close();
        assertFalse(rows.isOpen());
        assertThrows(IllegalStateException.class, () -> flat.getFlat(0));
        assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(Shape.of(2)).slice(1, 3));
    }

    @Test
    void arenaTensorsAreFreedByTheirArenaAndWrappedMemoryIsChecked() {
        Tensor t;
        try (TensorArena tensors = new TensorArena()) {
            t = tensors.allocate(Shape.of(3));
            t.close(); // the arena owns it
            assertTrue(t.isOpen());
        }
        assertFalse(t.isOpen());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(ValueLayout.JAVA_FLOAT, 3);
            assertEquals(Shape.of(3), Tensor.wrap(seg, Shape.of(3)).shape());
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(seg, Shape.of(4)));
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(MemorySegment.ofArray(new float[3]), Shape.of(3)));
        }
    }

    @Test
    void liveBytesCountWhatIsAllocatedAndNotYetFreed() {
        long before = Tensor.bytesLive();
        Tensor owned = Tensor.allocate(Shape.of(4, 5));
        assertEquals(before + 80, Tensor.bytesLive());
        owned.reshape(Shape.of(20)).close(); // a view frees nothing
        assertEquals(before + 80, Tensor.bytesLive());
        owned.close();
        owned.close();
        assertEquals(before, Tensor.bytesLive());
        try (TensorArena arena = new TensorArena()) {
            arena.allocate(Shape.of(3));
            arena.allocate(Shape.of(2, 2));
            assertEquals(before + 28, Tensor.bytesLive());
        }
        assertEquals(before, Tensor.bytesLive());
    }
}
