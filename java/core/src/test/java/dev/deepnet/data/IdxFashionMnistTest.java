package dev.deepnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The real Fashion-MNIST, as the Debian package {@code dataset-fashion-mnist} installs it. A
 * missing file fails the test (with the command that installs it): it is never skipped.
 */
class IdxFashionMnistTest {

    static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");

    static Path fashion(String name) {
        Path file = DIR.resolve(name);
        if (!Files.isReadable(file)) {
            fail("Fashion-MNIST file " + file + " is missing; install it with: apt-get install -y dataset-fashion-mnist");
        }
        return file;
    }

    private static int[] classCounts(int[] labels) {
        int[] counts = new int[10];
        for (int label : labels) {
            assertTrue(label >= 0 && label < 10, "label " + label);
            counts[label]++;
        }
        return counts;
    }

    @Test
    void testSetHas10000ImagesOf28x28And1000OfEachClass() throws IOException {
        IdxFile images = IdxFile.read(fashion("t10k-images-idx3-ubyte.gz"));
        assertTrue(images.compressed());
        assertEquals(IdxFile.Type.UNSIGNED_BYTE, images.type());
        assertArrayEquals(new int[] {10000, 28, 28}, images.dims());
        IdxFile labels = IdxFile.read(fashion("t10k-labels-idx1-ubyte.gz"));
        assertArrayEquals(new int[] {10000}, labels.dims());
        int[] y = labels.ints();
        assertArrayEquals(new int[] {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, classCounts(y));
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, java.util.Arrays.copyOf(y, 10));
    }

    @Test
    void testSetLoadsAsADatasetOfPixelsOver255() throws IOException {
        try (Dataset d = IdxFile.loadImages(fashion("t10k-images-idx3-ubyte.gz"), fashion("t10k-labels-idx1-ubyte.gz"), 10)) {
            assertEquals(10000, d.size());
            assertEquals(Shape.of(10000, 1, 28, 28), d.inputs().shape());
            assertEquals(Shape.of(10000, 10), d.targets().shape());
            assertEquals(9, d.label(0));
            float sum = 0;
            float max = 0;
            for (int i = 0; i < 784; i++) {
                float v = d.inputs().getFlat(i);
                assertTrue(v >= 0 && v <= 1, "pixel " + v);
                sum += v;
                max = Math.max(max, v);
            }
            assertEquals(33456 / 255f, sum, 1e-3f, "first image's pixel sum");
            assertEquals(1f, max);
        }
    }

    @Test
    void trainingSetHas60000ImagesAnd6000OfEachClass() throws IOException {
        IdxFile images = IdxFile.read(fashion("train-images-idx3-ubyte.gz"));
        assertArrayEquals(new int[] {60000, 28, 28}, images.dims());
        int[] y = IdxFile.read(fashion("train-labels-idx1-ubyte.gz")).ints();
        assertEquals(60000, y.length);
        assertArrayEquals(new int[] {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, classCounts(y));
    }
}
