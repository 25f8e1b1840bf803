package dev.deepnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** IDX files built byte by byte: read back, plain and gzipped; every kind of damage refused, naming file and byte. */
class IdxFileTest {

    @TempDir
    Path dir;

    /** An IDX file: magic (0, 0, type, dims.length), the sizes, then {@code data}. */
    static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length); // big-endian
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(data).array();
    }

    static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(bytes);
        }
        return out.toByteArray();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    /** A 2 x 3 unsigned-byte image: 18 bytes, data from byte 12. */
    private static final byte[] SMALL = idx(0x08, new int[] {2, 3}, bytes(0, 1, 127, 128, 254, 255));

    /** Reads {@code bytes} as a file and returns the refusal, after checking it names the file first. */
    private DataFormatException refused(String name, byte[] bytes, String... fragments) throws IOException {
        Path file = write(name, bytes);
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxFile.read(file));
        assertMessage(e, file, fragments);
        return e;
    }

    static void assertMessage(DataFormatException e, Path file, String... fragments) {
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertEquals(file, e.file());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void readsPlainUnsignedBytes() throws IOException {
        IdxFile f = IdxFile.read(write("small.idx", SMALL));
        assertEquals(IdxFile.Type.UNSIGNED_BYTE, f.type());
        assertArrayEquals(new int[] {2, 3}, f.dims());
        assertFalse(f.compressed());
        assertEquals(6, f.elementCount());
        assertEquals(12, f.dataOffset());
        assertArrayEquals(new int[] {0, 1, 127, 128, 254, 255}, f.ints());
        assertArrayEquals(new float[] {0, 1, 127, 128, 254, 255}, f.floats(false));
        assertArrayEquals(new float[] {0, 1 / 255f, 127 / 255f, 128 / 255f, 254 / 255f, 1}, f.floats(true));
        assertTrue(f.toString().endsWith("small.idx: unsigned byte (2, 3)"), f.toString());
    }

    @Test
    void readsGzippedFiles() throws IOException {
        IdxFile f = IdxFile.read(write("small.idx.gz", gzip(SMALL)));
        assertTrue(f.compressed());
        assertArrayEquals(new int[] {2, 3}, f.dims());
        assertArrayEquals(new int[] {0, 1, 127, 128, 254, 255}, f.ints());
    }

    @Test
    void readsAGzippedFileLargerThanTheFirstBuffer() throws IOException {
        byte[] data = new byte[3 << 20]; // 3 MiB: read in three chunks, elements numbered across them
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 % 251);
        }
        IdxFile f = IdxFile.read(write("big.gz", gzip(idx(0x08, new int[] {3, 1024, 1024}, data))));
        assertArrayEquals(new int[] {3, 1024, 1024}, f.dims());
        int[] values = f.ints();
        for (int i = 0; i < data.length; i++) {
            if (values[i] != (data[i] & 0xff)) {
                throw new AssertionError("element " + i + ": " + values[i] + " != " + (data[i] & 0xff));
            }
        }
    }

    @Test
    void readsEveryElementTypeBigEndian() throws IOException {
        IdxFile signed = IdxFile.read(write("b", idx(0x09, new int[] {3}, bytes(-128, -1, 127))));
        assertArrayEquals(new int[] {-128, -1, 127}, signed.ints());
        assertArrayEquals(new float[] {-128, -1, 127}, signed.floats(false));

        ByteBuffer s = ByteBuffer.allocate(4).putShort((short) -2).putShort((short) 300);
        IdxFile shorts = IdxFile.read(write("s", idx(0x0B, new int[] {2}, s.array())));
        assertEquals(IdxFile.Type.SHORT, shorts.type());
        assertArrayEquals(new int[] {-2, 300}, shorts.ints());

        ByteBuffer i = ByteBuffer.allocate(8).putInt(-70000).putInt(Integer.MAX_VALUE);
        IdxFile ints = IdxFile.read(write("i", idx(0x0C, new int[] {1, 2}, i.array())));
        assertArrayEquals(new int[] {-70000, Integer.MAX_VALUE}, ints.ints());

        ByteBuffer f = ByteBuffer.allocate(8).putFloat(1.5f).putFloat(-0.25f);
        IdxFile floats = IdxFile.read(write("f", idx(0x0D, new int[] {2}, f.array())));
        assertArrayEquals(new float[] {1.5f, -0.25f}, floats.floats(false));
        assertThrows(IllegalStateException.class, floats::ints);
        IllegalStateException scaled = assertThrows(IllegalStateException.class, () -> floats.floats(true));
        assertTrue(scaled.getMessage().contains("unsigned byte data only; this file holds float"), scaled.getMessage());

        ByteBuffer d = ByteBuffer.allocate(16).putDouble(1e-3).putDouble(-2.5);
        IdxFile doubles = IdxFile.read(write("d", idx(0x0E, new int[] {2}, d.array())));
        assertArrayEquals(new float[] {1e-3f, -2.5f}, doubles.floats(false));
    }

    @ParameterizedTest(name = "cut after {0} bytes")
    @ValueSource(ints = {0, 1, 2, 3, 4, 7, 11, 12, 13, 17})
    void truncatedPlainFilesAreRefused(int cut) throws IOException {
        DataFormatException e = refused("cut.idx", Arrays.copyOf(SMALL, cut), "at byte ");
        if (cut < 4) {
            assertMessage(e, e.file(), "at byte " + cut + ": file ends inside the 4-byte magic number");
        } else if (cut < 12) {
            assertMessage(e, e.file(), "at byte " + cut + ": file ends inside the dimension sizes: 2 dimensions need bytes 4-11");
        } else {
            assertMessage(e, e.file(), "at byte " + cut + ": truncated: dimensions (2, 3) of unsigned byte declare 6 bytes"
                    + " of data from byte 12, but the file ends after " + (cut - 12) + " of them");
        }
    }

    @Test
    void truncatedGzipFilesAreRefusedAtEveryCut() throws IOException {
        byte[] data = new byte[5000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * i);
        }
        byte[] gz = gzip(idx(0x08, new int[] {5, 1000}, data));
        // in the gzip header, the deflate stream, the CRC and the length of the trailer
        for (int cut : new int[] {2, 5, 10, 11, 20, gz.length / 2, gz.length - 9, gz.length - 8, gz.length - 5,
                gz.length - 1}) {
            Path file = write("cut" + cut + ".gz", Arrays.copyOf(gz, cut));
            DataFormatException e = assertThrows(DataFormatException.class, () -> IdxFile.read(file), "cut " + cut);
            assertMessage(e, file, "gzip");
        }
        Path whole = write("whole.gz", gz);
        assertEquals(5000, IdxFile.read(whole).elementCount());
    }

    @Test
    void aGzipFileWhoseDataEndsEarlyIsRefusedAtTheDecompressedOffset() throws IOException {
        refused("short.gz", gzip(Arrays.copyOf(SMALL, 15)), "at byte 15: truncated: dimensions (2, 3) of unsigned byte"
                + " declare 6 bytes of data from byte 12, but the data ends after 3 of them",
                "(the offset counts decompressed bytes)");
    }

    @Test
    void aWrongChecksumIsRefused() throws IOException {
        byte[] gz = gzip(SMALL);
        gz[gz.length - 8] ^= 0x55; // the CRC-32 of the data
        refused("damaged.gz", gz, "invalid gzip data: CRC-32 mismatch in the trailer at compressed byte");
    }

    @Test
    void bytesAfterTheGzipDataAreRefused() throws IOException {
        byte[] gz = gzip(SMALL);
        byte[] junk = Arrays.copyOf(gz, gz.length + 5);
        junk[gz.length] = '<';
        refused("junk.gz", junk, "at byte 18: invalid gzip data: 5 bytes of trailing data after the gzip data, from"
                + " compressed byte " + gz.length);
        byte[] partial = Arrays.copyOf(gz, gz.length + 1);
        partial[gz.length] = 0x1f;
        refused("partial.gz", partial, "invalid gzip data: the file ends inside a gzip header or trailer");
    }

    @Test
    void concatenatedGzipMembersAreOneStream() throws IOException {
        byte[] first = gzip(Arrays.copyOf(SMALL, 10));
        byte[] second = gzip(Arrays.copyOfRange(SMALL, 10, SMALL.length));
        byte[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        assertArrayEquals(new int[] {0, 1, 127, 128, 254, 255}, IdxFile.read(write("two.gz", both)).ints());
    }

    @Test
    void wrongMagicIsRefused() throws IOException {
        byte[] bad = SMALL.clone();
        bad[0] = 0x12;
        bad[1] = 0x34;
        refused("magic.idx", bad, "at byte 0: not an IDX file: magic number 0x12340802");
        refused("text.idx", "hello, world".getBytes(), "at byte 0: not an IDX file");
        refused("magic.gz", gzip(bad), "at byte 0: not an IDX file");
    }

    @Test
    void unknownTypeIsRefused() throws IOException {
        refused("type.idx", idx(0x0A, new int[] {2}, bytes(1, 2)),
                "at byte 2: unknown element type 0x0A; known: 0x08 unsigned byte, 0x09 signed byte, 0x0B short");
    }

    @Test
    void zeroNegativeAndMissingDimensionsAreRefused() throws IOException {
        refused("rank0.idx", idx(0x08, new int[0], bytes(1)), "at byte 3: the number of dimensions is 0");
        refused("zero.idx", idx(0x08, new int[] {2, 0}, new byte[0]), "at byte 8: dimension 1 has size 0");
        refused("negative.idx", idx(0x08, new int[] {-1, 2}, bytes(1, 2)),
                "at byte 4: dimension 0 has size 4294967295; sizes must be between 1 and 2147483647");
    }

    @Test
    void dimensionsBeyondOneArrayAreRefusedWithoutAllocating() throws IOException {
        byte[] huge = idx(0x0E, new int[] {65536, 65536, 65536}, bytes(1, 2, 3));
        refused("huge.idx", huge, "at byte 4: dimensions (65536, 65536, 65536) of double declare 2251799813685248 bytes"
                + " of data, more than the 2147483639 bytes one array can hold");
        refused("huge.gz", gzip(huge), "more than the 2147483639 bytes one array can hold");
        refused("overflow.idx", idx(0x0C, new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE,
                Integer.MAX_VALUE, Integer.MAX_VALUE}, new byte[0]), "one array can hold");
    }

    @Test
    void dimensionsDeclaringMoreDataThanPresentAreRefused() throws IOException {
        // 188 MB declared (little enough for any test heap to admit), 10 bytes present: refused from the file
        // length (plain) or at the end of the data (gzip), having allocated one chunk
        byte[] lying = idx(0x08, new int[] {60000, 28, 28, 4}, new byte[10]);
        refused("lying.idx", lying, "at byte 30: truncated: dimensions (60000, 28, 28, 4) of unsigned byte declare"
                + " 188160000 bytes of data from byte 20, but the file ends after 10 of them");
        refused("lying.gz", gzip(lying), "at byte 30: truncated", "the data ends after 10 of them");
    }

    @Test
    void trailingDataIsRefused() throws IOException {
        byte[] longer = Arrays.copyOf(SMALL, SMALL.length + 2);
        refused("trailing.idx", longer, "at byte 18: 2 trailing bytes after the 6 bytes of data declared by dimensions"
                + " (2, 3) of unsigned byte");
        refused("trailing.gz", gzip(longer), "at byte 18: trailing data after the 6 bytes",
                "(the offset counts decompressed bytes)");
    }

    @Test
    void loadImagesCombinesImagesAndLabels() throws IOException {
        Path images = write("images", idx(0x08, new int[] {3, 2, 2}, bytes(0, 51, 102, 153, 204, 255, 0, 0, 1, 2, 3, 4)));
        Path labels = write("labels.gz", gzip(idx(0x08, new int[] {3}, bytes(2, 0, 1))));
        try (Dataset d = IdxFile.loadImages(images, labels, 3)) {
            assertEquals(3, d.size());
            assertEquals(Shape.of(3, 1, 2, 2), d.inputs().shape());
            assertEquals(Shape.of(3, 3), d.targets().shape());
            assertArrayEquals(new int[] {2, 0, 1}, d.labels());
            assertArrayEquals(new float[] {0, 0.2f, 0.4f, 0.6f, 0.8f, 1, 0, 0, 1 / 255f, 2 / 255f, 3 / 255f, 4 / 255f},
                    d.inputs().toArray(), 1e-7f);
            assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0, 0, 1, 0}, d.targets().toArray());
        }
    }

    @Test
    void loadImagesRefusesCountMismatchNamingBothFiles() throws IOException {
        Path images = write("images", idx(0x08, new int[] {3, 1, 1}, bytes(1, 2, 3)));
        Path labels = write("labels", idx(0x08, new int[] {2}, bytes(0, 1)));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxFile.loadImages(images, labels, 10));
        assertMessage(e, images, "holds 3 images but " + labels + " holds 2 labels");
    }

    @Test
    void loadImagesRefusesLabelsOutOfRangeAndWrongShapes() throws IOException {
        Path images = write("images", idx(0x08, new int[] {2, 1, 1}, bytes(1, 2)));
        Path labels = write("labels", idx(0x08, new int[] {2}, bytes(0, 10)));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxFile.loadImages(images, labels, 10));
        assertMessage(e, labels, "at byte 9: label 10 of sample 1 is not in [0, 10)");

        Path flat = write("flat", idx(0x08, new int[] {2, 1}, bytes(1, 2)));
        e = assertThrows(DataFormatException.class, () -> IdxFile.loadImages(flat, labels, 11));
        assertMessage(e, flat, "expected images: unsigned byte of dimensions (N, rows, cols), found unsigned byte of"
                + " dimensions (2, 1)");
        Path floatLabels = write("floatLabels", idx(0x0D, new int[] {2}, new byte[8]));
        e = assertThrows(DataFormatException.class, () -> IdxFile.loadImages(images, floatLabels, 11));
        assertMessage(e, floatLabels, "expected labels: integers of dimension (N), found float");
        assertThrows(IllegalArgumentException.class, () -> IdxFile.loadImages(images, labels, 0));
    }
}
