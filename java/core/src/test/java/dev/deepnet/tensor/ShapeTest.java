package dev.deepnet.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShapeTest {

    @Test
    void withDimReplacesOneDimension() {
        assertEquals(Shape.of(8, 3, 5), Shape.of(1, 3, 5).withDim(0, 8));
        assertEquals(Shape.of(1, 3, 7), Shape.of(1, 3, 5).withDim(2, 7));
    }

    @Test
    void aMissingDimensionIsNamedWithTheShapeNotAsARawArrayIndex() {
        Shape s = Shape.of(2, 3, 4);
        // Exactly IndexOutOfBoundsException: the raw ArrayIndexOutOfBoundsException is a subclass and names no shape.
        for (int bad : new int[] {3, -1, Integer.MAX_VALUE}) {
            IndexOutOfBoundsException w = assertThrowsExactly(IndexOutOfBoundsException.class, () -> s.withDim(bad, 5));
            assertTrue(w.getMessage().contains("shape (2, 3, 4) of rank 3 has no dimension " + bad), w.getMessage());
            IndexOutOfBoundsException d = assertThrowsExactly(IndexOutOfBoundsException.class, () -> s.dim(bad));
            assertTrue(d.getMessage().contains("(2, 3, 4)"), d.getMessage());
            assertThrowsExactly(IndexOutOfBoundsException.class, () -> s.intDim(bad));
        }
    }

    @Test
    void withDimRefusesANonPositiveValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(2, 3).withDim(1, 0));
        assertTrue(e.getMessage().contains("dimensions must be positive"), e.getMessage());
    }
}
