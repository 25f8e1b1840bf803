package dev.deepnet.data;

import static dev.deepnet.data.IdxFileTest.assertMessage;
import static dev.deepnet.data.IdxFileTest.gzip;
import static dev.deepnet.data.IdxFileTest.idx;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IDX decompression bombs and the {@link DataLimits} that refuse them: the bomb of a million
 * blank 28 x 28 images (784 MB in 760 KB) is refused having decompressed only its first
 * megabytes, or from its header alone under a lower byte limit; the limits refuse normal files
 * just below their size and pass them at it; loadImages checks both headers and the heap first.
 */
class IdxFileLimitsTest {

    @TempDir
    static Path dir;

    /** (1,000,000, 28, 28) zero bytes, gzipped. */
    private static Path bomb;
    /** A million gzipped zero labels, to pair with the bomb. */
    private static Path bombLabels;

    /** A 2 x 3 unsigned-byte image: 6 bytes of data from byte 12. */
    private static final byte[] SMALL = idx(0x08, new int[] {2, 3}, new byte[] {0, 1, 127, (byte) 128, (byte) 254, -1});

    @BeforeAll
    static void buildTheBomb() throws IOException {
        byte[] bytes = DecompressionBombs.gzipIdxOfZeros(1_000_000, 28, 28);
        assertTrue(bytes.length < 1_000_000, "the bomb should be under 1 MB, is " + bytes.length);
        bomb = Files.write(dir.resolve("bomb-images-idx3-ubyte.gz"), bytes);
        bombLabels = Files.write(dir.resolve("bomb-labels-idx1-ubyte.gz"), DecompressionBombs.gzipIdxOfZeros(1_000_000));
    }

    private static Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void theBombBuilderMakesValidGzipIdxFiles() throws IOException {
        // the bomb's construction (one block of zeros deflated once, repeated) at a size that may be read
        byte[] bytes = DecompressionBombs.gzipIdxOfZeros(3, 1025, 1024);
        IdxFile f = IdxFile.read(write("zeros.gz", bytes));
        assertArrayEquals(new int[] {3, 1025, 1024}, f.dims());
        assertTrue(Arrays.stream(f.ints()).allMatch(v -> v == 0), "all zero");
        assertTrue(bytes.length < 10_000, "3 MB of zeros compress to " + bytes.length + " bytes");
    }

    @Test
    void theBombIsRefusedByItsExpansionHavingDecompressedOnlyItsFirstMegabytes() throws IOException {
        // 784 MB fits the test JVM's heap and the default byte limit; the expansion of 1000 to 1 gives it away
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxFile.read(bomb));
        assertMessage(e, bomb, "decompression bomb: ", "compressed bytes, more than the limit of 100 to 1"
                + " (DataLimits.maxGzipRatio, -Ddeepnet.data.maxGzipRatio); the dimensions (1000000, 28, 28) of unsigned"
                + " byte declare 784000000 bytes of data", "(the offset counts decompressed bytes)");
        // the offset is how far decompression went: past the grace, then at most one more chunk
        assertTrue(e.offset() > DataLimits.GZIP_RATIO_GRACE_BYTES && e.offset() <= DataLimits.GZIP_RATIO_GRACE_BYTES
                + (1 << 20), "refused at byte " + e.offset());

        // paired, it also needs 3.1 GB of floats: refused by its expansion, or up front on a smaller heap
        DataFormatException paired = assertThrows(DataFormatException.class,
                () -> IdxFile.loadImages(bomb, bombLabels, 10, DataLimits.defaults()));
        assertMessage(paired, bomb);
        assertTrue(paired.getMessage().contains("decompression bomb: ")
                || paired.getMessage().contains(" of heap for 1000000 images of 28 x 28 pixels"), paired.getMessage());
    }

    @Test
    void aLowerByteLimitRefusesTheBombFromItsHeader() throws IOException {
        DataLimits service = DataLimits.defaults().withMaxIdxBytes(100_000_000);
        String expected = "at byte 4: dimensions (1000000, 28, 28) of unsigned byte declare 784000000 bytes of data, more"
                + " than the limit of 100000000 bytes (DataLimits.maxIdxBytes, -Ddeepnet.data.maxIdxBytes)";
        assertMessage(assertThrows(DataFormatException.class, () -> IdxFile.read(bomb, service)), bomb, expected);
        assertMessage(assertThrows(DataFormatException.class, () -> IdxFile.loadImages(bomb, bombLabels, 10, service)),
                bomb, expected);
        // a ratio limit raised out of the way changes nothing: the header is refused before any data is inflated
        assertMessage(assertThrows(DataFormatException.class,
                () -> IdxFile.read(bomb, service.withMaxGzipRatio(Long.MAX_VALUE))), bomb, expected);
    }

    @Test
    void loadImagesComparesBothHeadersBeforeReadingAnyData() throws IOException {
        // the bomb's data is never reached: the labels' count, type and rank are refused first
        Path tenLabels = write("ten-labels", idx(0x08, new int[] {10}, new byte[10]));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxFile.loadImages(bomb, tenLabels, 10));
        assertMessage(e, bomb, "holds 1000000 images but " + tenLabels + " holds 10 labels");

        Path floatLabels = write("float-labels", idx(0x0D, new int[] {1_000_000}, new byte[4_000_000]));
        e = assertThrows(DataFormatException.class, () -> IdxFile.loadImages(bomb, floatLabels, 10));
        assertMessage(e, floatLabels, "at byte 2: expected labels: integers of dimension (N), found float");
    }

    @Test
    void loadImagesRefusesUpFrontADatasetTheHeapCannotHold() throws IOException {
        // a thousand 1-pixel images are nothing, but their one-hot targets over 2^31 - 1 classes are 8 TB
        Path images = write("images", idx(0x08, new int[] {1000, 1, 1}, new byte[1000]));
        Path labels = write("labels", idx(0x08, new int[] {1000}, new byte[1000]));
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> IdxFile.loadImages(images, labels, Integer.MAX_VALUE));
        assertMessage(e, images, "needs about 8192001 MiB of heap for 1000 images of 1 x 1 pixels as floats with"
                + " 2147483647 one-hot classes, but the JVM has about ", "; give it more with -Xmx, or use a smaller file");
    }

    @Test
    void aByteLimitBelowANormalFileRefusesItAndOneAtItsSizeReadsIt() throws IOException {
        for (Path file : new Path[] {write("small.idx", SMALL), write("small.idx.gz", gzip(SMALL))}) {
            DataFormatException e = assertThrows(DataFormatException.class,
                    () -> IdxFile.read(file, DataLimits.defaults().withMaxIdxBytes(5)));
            assertMessage(e, file, "at byte 4: dimensions (2, 3) of unsigned byte declare 6 bytes of data, more than the"
                    + " limit of 5 bytes");
            assertArrayEquals(new int[] {0, 1, 127, 128, 254, 255},
                    IdxFile.read(file, DataLimits.defaults().withMaxIdxBytes(6)).ints());
        }
    }

    @Test
    void theExpansionIsCheckedOnlyPastItsGraceAndARaisedRatioPassesIt() throws IOException {
        long grace = DataLimits.GZIP_RATIO_GRACE_BYTES;
        // rank 1: 8 header bytes, so the whole decompressed file is exactly the grace, then one byte more
        Path atGrace = write("at-grace.gz", DecompressionBombs.gzipIdxOfZeros((int) grace - 8));
        assertEquals(grace - 8, IdxFile.read(atGrace).elementCount());

        Path past = write("past-grace.gz", DecompressionBombs.gzipIdxOfZeros((int) grace - 7));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxFile.read(past));
        assertMessage(e, past, "at byte " + (grace + 1) + ": decompression bomb: " + (grace + 1) + " bytes came out of ");
        assertEquals(grace - 7, IdxFile.read(past, DataLimits.defaults().withMaxGzipRatio(100_000)).elementCount());
    }

    @Test
    void dimensionsWhoseProductOverflowsALongAreRefusedWhateverTheLimit() throws IOException {
        int max = Integer.MAX_VALUE;
        BigInteger bytes = BigInteger.valueOf(max).pow(3).multiply(BigInteger.valueOf(8));
        assertTrue(bytes.bitLength() > 63, "the product must overflow a long");
        Path file = write("overflow.idx", idx(0x0E, new int[] {max, max, max}, new byte[8]));
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> IdxFile.read(file, DataLimits.defaults().withMaxIdxBytes(Long.MAX_VALUE)));
        assertMessage(e, file, "at byte 4: dimensions (2147483647, 2147483647, 2147483647) of double declare " + bytes
                + " bytes of data, more than the 2147483639 bytes one array can hold");
    }

    @Test
    void theHeapRefusalSaysWhatIsNeededAndWhatTheJvmHas() throws IOException {
        Path file = dir.resolve("any.idx");
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> DataLimits.requireHeap(file, 16, (3L << 30) + 1, "its data", 1L << 30, 4L << 30));
        assertMessage(e, file, "at byte 16: needs about 3073 MiB of heap for its data, but the JVM has about 1024 MiB"
                + " free of its 4096 MiB maximum; give it more with -Xmx");
        DataLimits.requireHeap(file, 16, 1L << 30, "its data", 1L << 30, 4L << 30); // exactly what is free: allowed
    }
}
