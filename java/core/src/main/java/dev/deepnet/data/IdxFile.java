package dev.deepnet.data;

import dev.deepnet.tensor.Shape;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.zip.ZipException;

/**
 * An IDX file, the format of MNIST and Fashion-MNIST, read whole into memory and validated
 * before anything is returned.
 *
 * <p>The format, all big-endian: bytes 0-1 are zero, byte 2 is the element type (see
 * {@link Type}), byte 3 the number of dimensions {@code d}; then {@code d} 32-bit sizes; then the
 * elements, row-major, and nothing after them. A file starting with the gzip magic
 * {@code 0x1f 0x8b} is decompressed on the fly (the {@code .gz} files as distributed), strictly:
 * checksums are checked and bytes after the gzip data are refused ({@link GzipInput}).
 *
 * <p>Every problem is a {@link DataFormatException} naming the file and the byte offset: a wrong
 * magic number, an unknown type, a zero, negative or too large dimension, too little data, data
 * left over. Nothing is allocated from the header alone: a plain file's declared data size is
 * compared with its length first; a gzip file's data is read in a growing buffer, so a small
 * file declaring gigabytes fails at its end without the gigabytes ever being allocated. For gzip
 * files, offsets count bytes of the decompressed data.
 */
public final class IdxFile {

    /** Element types, by the code in byte 2 of the magic number. */
    public enum Type {
        UNSIGNED_BYTE(0x08, 1, "unsigned byte"),
        SIGNED_BYTE(0x09, 1, "signed byte"),
        SHORT(0x0B, 2, "short"),
        INT(0x0C, 4, "int"),
        FLOAT(0x0D, 4, "float"),
        DOUBLE(0x0E, 8, "double");

        private final int code;
        private final int bytes;
        private final String description;

        Type(int code, int bytes, String description) {
            this.code = code;
            this.bytes = bytes;
            this.description = description;
        }

        /** The type code in byte 2 of the file. */
        public int code() {
            return code;
        }

        /** Bytes per element. */
        public int bytes() {
            return bytes;
        }

        /** True for the types {@link #ints()} can return. */
        public boolean isInteger() {
            return this != FLOAT && this != DOUBLE;
        }

        static Type of(int code) {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /** The most data bytes read: what one Java byte array can hold on common JVMs. */
    public static final long MAX_DATA_BYTES = Integer.MAX_VALUE - 8;

    private static final int BUFFER = 1 << 16;
    private static final int FIRST_CHUNK = 1 << 20;

    private final Path file;
    private final boolean gzip;
    private final Type type;
    private final int[] dims;
    private final byte[] data; // big-endian elements, exactly as in the file

    private IdxFile(Path file, boolean gzip, Type type, int[] dims, byte[] data) {
        this.file = file;
        this.gzip = gzip;
        this.type = type;
        this.dims = dims;
        this.data = data;
    }

    /**
     * Reads and validates a whole IDX file, plain or gzip-compressed.
     *
     * @throws DataFormatException when the file is not a well-formed IDX file (says where and what)
     * @throws IOException when it cannot be read
     */
    public static IdxFile read(Path file) throws IOException {
        long fileSize = Files.size(file);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), BUFFER)) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            if (!gzip) {
                return new Reader(file, false, raw).read(fileSize);
            }
            GzipInput unzipped;
            try {
                unzipped = new GzipInput(raw, fileSize, BUFFER);
            } catch (ZipException | EOFException e) {
                throw new DataFormatException(file, -1, "invalid gzip data: " + e.getMessage(), e);
            }
            try (unzipped) {
                return new Reader(file, true, unzipped).read(-1);
            }
        }
    }

    /** Reads the header and the data from a stream, counting the bytes it consumes. */
    private static final class Reader {
        private final Path file;
        private final boolean gzip;
        private final InputStream in;
        private long position;

        Reader(Path file, boolean gzip, InputStream in) {
            this.file = file;
            this.gzip = gzip;
            this.in = in;
        }

        /** {@code fileSize} is the plain file's length, or -1 when it says nothing (gzip). */
        IdxFile read(long fileSize) throws IOException {
            byte[] magic = new byte[4];
            int got = readFully(magic, 0, 4);
            if (got < 4) {
                throw fail(got, "file ends inside the 4-byte magic number" + (got == 0 ? " (it is empty)" : ""));
            }
            if (magic[0] != 0 || magic[1] != 0) {
                throw fail(0, String.format("not an IDX file: magic number 0x%02X%02X%02X%02X, expected bytes 0-1 to be"
                        + " zero, then the type code and the number of dimensions", magic[0], magic[1], magic[2], magic[3]));
            }
            Type type = Type.of(magic[2] & 0xff);
            if (type == null) {
                throw fail(2, String.format("unknown element type 0x%02X; known: %s", magic[2] & 0xff,
                        Arrays.stream(Type.values()).map(t -> String.format("0x%02X %s", t.code, t))
                                .collect(Collectors.joining(", "))));
            }
            int rank = magic[3] & 0xff;
            if (rank == 0) {
                throw fail(3, "the number of dimensions is 0");
            }
            byte[] sizes = new byte[4 * rank];
            got = readFully(sizes, 0, sizes.length);
            if (got < sizes.length) {
                throw fail(4 + got, "file ends inside the dimension sizes: " + rank + " dimensions need bytes 4-"
                        + (3 + 4 * rank));
            }
            int[] dims = new int[rank];
            BigInteger elements = BigInteger.ONE;
            for (int i = 0; i < rank; i++) {
                dims[i] = ByteBuffer.wrap(sizes, 4 * i, 4).getInt();
                if (dims[i] <= 0) {
                    throw fail(4 + 4L * i, "dimension " + i + " has size " + Integer.toUnsignedString(dims[i])
                            + "; sizes must be between 1 and " + Integer.MAX_VALUE);
                }
                elements = elements.multiply(BigInteger.valueOf(dims[i]));
            }
            long dataStart = 4 + 4L * rank;
            BigInteger declaredBytes = elements.multiply(BigInteger.valueOf(type.bytes));
            String declares = "dimensions " + shape(dims) + " of " + type + " declare ";
            if (declaredBytes.compareTo(BigInteger.valueOf(MAX_DATA_BYTES)) > 0) {
                throw fail(4, declares + declaredBytes + " bytes of data, more than the " + MAX_DATA_BYTES
                        + " bytes one array can hold");
            }
            long declared = declaredBytes.longValueExact();
            if (fileSize >= 0) {
                long available = fileSize - dataStart;
                if (available < declared) {
                    throw fail(fileSize, "truncated: " + declares + declared + " bytes of data from byte " + dataStart
                            + ", but the file ends after " + available + " of them");
                }
                if (available > declared) {
                    throw fail(dataStart + declared, (available - declared) + " trailing bytes after the " + declared
                            + " bytes of data declared by dimensions " + shape(dims) + " of " + type);
                }
            }
            // Grow towards the declared size as data arrives: a lying gzip header costs no memory.
            byte[] data = new byte[(int) (fileSize >= 0 ? declared : Math.min(declared, FIRST_CHUNK))];
            int n = 0;
            while (true) {
                n += readFully(data, n, data.length - n);
                if (n < data.length || n == declared) {
                    break;
                }
                data = Arrays.copyOf(data, (int) Math.min(declared, 2L * data.length));
            }
            if (n < declared) {
                throw fail(dataStart + n, "truncated: " + declares + declared + " bytes of data from byte " + dataStart
                        + ", but the data ends after " + n + " of them");
            }
            if (readByte() >= 0) {
                throw fail(dataStart + declared, "trailing data after the " + declared
                        + " bytes of data declared by dimensions " + shape(dims) + " of " + type);
            }
            return new IdxFile(file, gzip, type, dims, data);
        }

        /** Reads up to {@code len} bytes; fewer only at the end of the stream. */
        private int readFully(byte[] b, int off, int len) throws IOException {
            int n = 0;
            while (n < len) {
                int k;
                try {
                    k = in.read(b, off + n, len - n);
                } catch (ZipException | EOFException e) {
                    throw corrupt(e);
                }
                if (k < 0) {
                    break;
                }
                n += k;
                position += k;
            }
            return n;
        }

        private int readByte() throws IOException {
            try {
                return in.read();
            } catch (ZipException | EOFException e) {
                throw corrupt(e);
            }
        }

        private DataFormatException corrupt(IOException e) {
            return new DataFormatException(file, position, withGzipNote(true, "invalid gzip data: " + e.getMessage()), e);
        }

        private DataFormatException fail(long offset, String problem) {
            return new DataFormatException(file, offset, withGzipNote(gzip, problem));
        }
    }

    private static String withGzipNote(boolean gzip, String problem) {
        return gzip ? problem + " (the offset counts decompressed bytes)" : problem;
    }

    private static String shape(int[] dims) {
        return Arrays.stream(dims).mapToObj(Integer::toString).collect(Collectors.joining(", ", "(", ")"));
    }

    /**
     * Combines an images file (unsigned bytes, dimensions (N, rows, cols)) and a labels file
     * (integers, dimension (N), each in [0, classes)) into a classification dataset of samples
     * (1, rows, cols) holding pixel / 255 — MNIST and Fashion-MNIST as distributed.
     *
     * @throws DataFormatException when either file is malformed, has the wrong type or rank, a
     *     label is out of range, or the files hold different numbers of samples (naming both)
     */
    public static Dataset loadImages(Path images, Path labels, int classes) throws IOException {
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be positive, got " + classes);
        }
        IdxFile x = read(images);
        if (x.type != Type.UNSIGNED_BYTE || x.dims.length != 3) {
            throw new DataFormatException(images, 2, "expected images: " + Type.UNSIGNED_BYTE
                    + " of dimensions (N, rows, cols), found " + x.type + " of dimensions " + shape(x.dims));
        }
        IdxFile y = read(labels);
        if (!y.type.isInteger() || y.dims.length != 1) {
            throw new DataFormatException(labels, 2, "expected labels: integers of dimension (N), found " + y.type
                    + " of dimensions " + shape(y.dims));
        }
        if (x.dims[0] != y.dims[0]) {
            throw new DataFormatException(images, "holds " + x.dims[0] + " images but " + labels + " holds " + y.dims[0]
                    + " labels");
        }
        int[] classOf = y.ints();
        for (int i = 0; i < classOf.length; i++) {
            if (classOf[i] < 0 || classOf[i] >= classes) {
                throw new DataFormatException(labels, y.dataOffset() + (long) i * y.type.bytes, withGzipNote(y.gzip,
                        "label " + classOf[i] + " of sample " + i + " is not in [0, " + classes + ")"));
            }
        }
        return Dataset.classification(x.floats(true), Shape.of(1, x.dims[1], x.dims[2]), classOf, classes);
    }

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /** Whether the file was gzip-compressed. */
    public boolean compressed() {
        return gzip;
    }

    public Type type() {
        return type;
    }

    /** The dimension sizes (a copy), outermost first. */
    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements: the product of the dimensions. */
    public int elementCount() {
        return data.length / type.bytes;
    }

    /** Byte offset of the first element (in the decompressed data for gzip files). */
    public long dataOffset() {
        return 4 + 4L * dims.length;
    }

    /**
     * The elements as floats, row-major (doubles are rounded to float).
     *
     * @param scaleBytesTo01 divide unsigned-byte values (pixels) by 255, giving [0, 1]; only
     *     allowed for {@link Type#UNSIGNED_BYTE}
     */
    public float[] floats(boolean scaleBytesTo01) {
        if (scaleBytesTo01 && type != Type.UNSIGNED_BYTE) {
            throw new IllegalStateException(file + ": scaling to [0, 1] is defined for " + Type.UNSIGNED_BYTE
                    + " data only; this file holds " + type);
        }
        float[] out = new float[elementCount()];
        ByteBuffer b = ByteBuffer.wrap(data); // big-endian
        switch (type) {
            case UNSIGNED_BYTE -> {
                float divisor = scaleBytesTo01 ? 255f : 1f;
                for (int i = 0; i < out.length; i++) {
                    out[i] = (data[i] & 0xff) / divisor;
                }
            }
            case SIGNED_BYTE -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = data[i];
                }
            }
            case SHORT -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.getShort(2 * i);
                }
            }
            case INT -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.getInt(4 * i);
                }
            }
            case FLOAT -> b.asFloatBuffer().get(out);
            case DOUBLE -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) b.getDouble(8 * i);
                }
            }
        }
        return out;
    }

    /** The elements as ints, row-major (class labels); only for the integer types. */
    public int[] ints() {
        if (!type.isInteger()) {
            throw new IllegalStateException(file + ": holds " + type + " data, not integers");
        }
        int[] out = new int[elementCount()];
        ByteBuffer b = ByteBuffer.wrap(data);
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (type) {
                case UNSIGNED_BYTE -> data[i] & 0xff;
                case SIGNED_BYTE -> data[i];
                case SHORT -> b.getShort(2 * i);
                default -> b.getInt(4 * i);
            };
        }
        return out;
    }

    /** E.g. {@code t10k-images-idx3-ubyte.gz: unsigned byte (10000, 28, 28)}. */
    @Override
    public String toString() {
        return file + ": " + type + " " + shape(dims);
    }
}
