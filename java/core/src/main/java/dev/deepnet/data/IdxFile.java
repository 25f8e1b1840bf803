package dev.deepnet.data;

import dev.deepnet.tensor.Shape;
import java.io.BufferedInputStream;
import java.io.Closeable;
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
 * left over, more data than the {@link DataLimits} allow. For gzip files, offsets count bytes of
 * the decompressed data.
 *
 * <p>Nothing is allocated from the header alone. The declared data size is checked against
 * {@link DataLimits#maxIdxBytes()} and against the heap the JVM has left; a plain file's is also
 * compared with its length. The data is then read in chunks of 1 MiB, each allocated only when
 * the data before it has arrived, so a gzip file declaring far more than it holds fails at its
 * end having cost one chunk more than it holds, and a gzip file that does hold gigabytes of zeros (a
 * decompression bomb) is refused by {@link DataLimits#maxGzipRatio()} once its first megabytes
 * show how far it expands. Decompression never goes past the declared size plus one byte.
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

    /**
     * The most data bytes read: what one Java byte array can hold on common JVMs, so that
     * {@link #floats} and {@link #ints} can return every element in one array.
     */
    public static final long MAX_DATA_BYTES = Integer.MAX_VALUE - 8;

    private static final int BUFFER = 1 << 16;
    /** Data is held in chunks of this many bytes: a multiple of every element size, so no element straddles two. */
    private static final int CHUNK = 1 << 20;

    private final Path file;
    private final boolean gzip;
    private final Type type;
    private final int[] dims;
    private final byte[][] data; // big-endian elements, exactly as in the file, CHUNK bytes per chunk but the last
    private final long dataBytes;

    private IdxFile(Path file, boolean gzip, Type type, int[] dims, byte[][] data, long dataBytes) {
        this.file = file;
        this.gzip = gzip;
        this.type = type;
        this.dims = dims;
        this.data = data;
        this.dataBytes = dataBytes;
    }

    /**
     * Reads and validates a whole IDX file, plain or gzip-compressed, within the
     * {@link DataLimits#fromSystemProperties() limits the system properties set}.
     *
     * @throws DataFormatException when the file is not a well-formed IDX file, or declares more
     *     than the limits or the heap allow (says where and what)
     * @throws IOException when it cannot be read
     */
    public static IdxFile read(Path file) throws IOException {
        return read(file, DataLimits.fromSystemProperties());
    }

    /**
     * Reads and validates a whole IDX file, plain or gzip-compressed, within {@code limits}
     * ({@link DataLimits#maxIdxBytes()} and {@link DataLimits#maxGzipRatio()}).
     *
     * @throws DataFormatException when the file is not a well-formed IDX file, or declares more
     *     than the limits or the heap allow (says where and what)
     * @throws IOException when it cannot be read
     */
    public static IdxFile read(Path file, DataLimits limits) throws IOException {
        try (Reader r = Reader.open(file, limits)) {
            DataLimits.requireHeap(file, r.dataStart, r.declared, "its " + r.declared + " bytes of data");
            return r.readData();
        }
    }

    /**
     * An open IDX file whose header has been read and checked; {@link #readData} reads the rest.
     * Counts the (decompressed) bytes it consumes.
     */
    private static final class Reader implements Closeable {
        private final Path file;
        private final DataLimits limits;
        private final InputStream in;
        private final GzipInput gzip; // the same stream as in, or null for a plain file
        private long position;
        private Type type;
        private int[] dims;
        private long dataStart;
        private long declared;

        private Reader(Path file, DataLimits limits, InputStream in, GzipInput gzip) {
            this.file = file;
            this.limits = limits;
            this.in = in;
            this.gzip = gzip;
        }

        /** Opens {@code file} and reads its header; refuses it before any data is read. */
        static Reader open(Path file, DataLimits limits) throws IOException {
            long fileSize = Files.size(file);
            InputStream raw = new BufferedInputStream(Files.newInputStream(file), BUFFER);
            try {
                raw.mark(2);
                boolean compressed = raw.read() == 0x1f && raw.read() == 0x8b;
                raw.reset();
                Reader r;
                if (compressed) {
                    GzipInput unzipped;
                    try {
                        unzipped = new GzipInput(raw, fileSize, BUFFER);
                    } catch (ZipException | EOFException e) {
                        throw new DataFormatException(file, -1, "invalid gzip data: " + e.getMessage(), e);
                    }
                    r = new Reader(file, limits, unzipped, unzipped);
                } else {
                    r = new Reader(file, limits, raw, null);
                }
                r.readHeader(compressed ? -1 : fileSize);
                return r;
            } catch (IOException | RuntimeException e) {
                try {
                    raw.close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
                throw e;
            }
        }

        /** {@code fileSize} is the plain file's length, or -1 when it says nothing (gzip). */
        private void readHeader(long fileSize) throws IOException {
            byte[] magic = new byte[4];
            int got = readFully(magic, 0, 4);
            if (got < 4) {
                throw fail(got, "file ends inside the 4-byte magic number" + (got == 0 ? " (it is empty)" : ""));
            }
            if (magic[0] != 0 || magic[1] != 0) {
                throw fail(0, String.format("not an IDX file: magic number 0x%02X%02X%02X%02X, expected bytes 0-1 to be"
                        + " zero, then the type code and the number of dimensions", magic[0], magic[1], magic[2], magic[3]));
            }
            type = Type.of(magic[2] & 0xff);
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
            dims = new int[rank];
            BigInteger elements = BigInteger.ONE; // up to 255 factors below 2^31: no long can hold the product
            for (int i = 0; i < rank; i++) {
                dims[i] = ByteBuffer.wrap(sizes, 4 * i, 4).getInt();
                if (dims[i] <= 0) {
                    throw fail(4 + 4L * i, "dimension " + i + " has size " + Integer.toUnsignedString(dims[i])
                            + "; sizes must be between 1 and " + Integer.MAX_VALUE);
                }
                elements = elements.multiply(BigInteger.valueOf(dims[i]));
            }
            dataStart = 4 + 4L * rank;
            BigInteger declaredBytes = elements.multiply(BigInteger.valueOf(type.bytes));
            if (declaredBytes.compareTo(BigInteger.valueOf(MAX_DATA_BYTES)) > 0) {
                throw fail(4, declares() + declaredBytes + " bytes of data, more than the " + MAX_DATA_BYTES
                        + " bytes one array can hold");
            }
            declared = declaredBytes.longValueExact();
            if (declared > limits.maxIdxBytes()) {
                throw fail(4, declares() + declared + " bytes of data, more than the limit of " + limits.maxIdxBytes()
                        + " bytes (DataLimits.maxIdxBytes, -D" + DataLimits.MAX_IDX_BYTES_PROPERTY + ")");
            }
            if (fileSize >= 0) {
                long available = fileSize - dataStart;
                if (available < declared) {
                    throw fail(fileSize, "truncated: " + declares() + declared + " bytes of data from byte " + dataStart
                            + ", but the file ends after " + available + " of them");
                }
                if (available > declared) {
                    throw fail(dataStart + declared, (available - declared) + " trailing bytes after the " + declared
                            + " bytes of data declared by dimensions " + shape(dims) + " of " + type);
                }
            }
        }

        private String declares() {
            return "dimensions " + shape(dims) + " of " + type + " declare ";
        }

        /** Reads exactly the declared data, a chunk at a time, and makes sure nothing follows. */
        IdxFile readData() throws IOException {
            byte[][] chunks = new byte[Math.toIntExact(Math.ceilDiv(declared, CHUNK))][];
            long n = 0;
            for (int c = 0; c < chunks.length; c++) {
                // Allocated only once the data before it has arrived: a lying header costs one chunk.
                byte[] chunk = new byte[(int) Math.min(CHUNK, declared - n)];
                int got = readFully(chunk, 0, chunk.length);
                n += got;
                if (got < chunk.length) {
                    throw fail(dataStart + n, "truncated: " + declares() + declared + " bytes of data from byte "
                            + dataStart + ", but the data ends after " + n + " of them");
                }
                chunks[c] = chunk;
                checkExpansion(n);
            }
            if (readByte() >= 0) {
                throw fail(dataStart + declared, "trailing data after the " + declared
                        + " bytes of data declared by dimensions " + shape(dims) + " of " + type);
            }
            return new IdxFile(file, gzip != null, type, dims, chunks, declared);
        }

        /** Refuses a gzip file whose first {@code n} data bytes came from too few compressed bytes. */
        private void checkExpansion(long n) throws DataFormatException {
            if (gzip == null || dataStart + n <= DataLimits.GZIP_RATIO_GRACE_BYTES) {
                return;
            }
            long compressed = gzip.compressedBytesRead();
            if (dataStart + n > DataLimits.saturatingMultiply(compressed, limits.maxGzipRatio())) {
                throw fail(dataStart + n, "decompression bomb: " + (dataStart + n) + " bytes came out of "
                        + compressed + " compressed bytes, more than the limit of " + limits.maxGzipRatio()
                        + " to 1 (DataLimits.maxGzipRatio, -D" + DataLimits.MAX_GZIP_RATIO_PROPERTY + "); the "
                        + declares() + declared + " bytes of data");
            }
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
            return new DataFormatException(file, offset, withGzipNote(gzip != null, problem));
        }

        @Override
        public void close() throws IOException {
            in.close(); // a GzipInput closes the file under it
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
     * (1, rows, cols) holding pixel / 255 — MNIST and Fashion-MNIST as distributed — within the
     * {@link DataLimits#fromSystemProperties() limits the system properties set}.
     *
     * @throws DataFormatException when either file is malformed, has the wrong type or rank, a
     *     label is out of range, the files hold different numbers of samples (naming both), or
     *     they declare more than the limits or the heap allow
     */
    public static Dataset loadImages(Path images, Path labels, int classes) throws IOException {
        return loadImages(images, labels, classes, DataLimits.fromSystemProperties());
    }

    /**
     * {@link #loadImages(Path, Path, int)} within {@code limits}. Both headers are read and
     * checked against each other, and the heap the whole dataset needs (the data, its floats, the
     * one-hot targets) against what the JVM has, before any data is read.
     */
    public static Dataset loadImages(Path images, Path labels, int classes, DataLimits limits) throws IOException {
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be positive, got " + classes);
        }
        try (Reader xr = Reader.open(images, limits)) {
            if (xr.type != Type.UNSIGNED_BYTE || xr.dims.length != 3) {
                throw new DataFormatException(images, 2, "expected images: " + Type.UNSIGNED_BYTE
                        + " of dimensions (N, rows, cols), found " + xr.type + " of dimensions " + shape(xr.dims));
            }
            try (Reader yr = Reader.open(labels, limits)) {
                if (!yr.type.isInteger() || yr.dims.length != 1) {
                    throw new DataFormatException(labels, 2, "expected labels: integers of dimension (N), found "
                            + yr.type + " of dimensions " + shape(yr.dims));
                }
                int n = xr.dims[0];
                if (n != yr.dims[0]) {
                    throw new DataFormatException(images, "holds " + n + " images but " + labels + " holds "
                            + yr.dims[0] + " labels");
                }
                // Heap held at once: both files' data, the pixels as floats, the labels twice (read,
                // and the dataset's copy), the one-hot targets; the dataset's tensors live off-heap.
                long floats = xr.declared; // one unsigned byte per pixel
                long need = sum(xr.declared, yr.declared, 4 * floats, 8L * n,
                        DataLimits.saturatingMultiply(4L * n, classes));
                DataLimits.requireHeap(images, -1, need, n + " images of " + xr.dims[1] + " x " + xr.dims[2]
                        + " pixels as floats with " + classes + " one-hot classes");
                IdxFile x = xr.readData();
                IdxFile y = yr.readData();
                int[] classOf = y.ints();
                for (int i = 0; i < classOf.length; i++) {
                    if (classOf[i] < 0 || classOf[i] >= classes) {
                        throw new DataFormatException(labels, y.dataOffset() + (long) i * y.type.bytes, withGzipNote(
                                y.gzip, "label " + classOf[i] + " of sample " + i + " is not in [0, " + classes + ")"));
                    }
                }
                return Dataset.classification(x.floats(true), Shape.of(1, x.dims[1], x.dims[2]), classOf, classes);
            }
        }
    }

    /** The sum of non-negative terms, or {@link Long#MAX_VALUE} when it overflows. */
    private static long sum(long... terms) {
        long total = 0;
        for (long t : terms) {
            total = t > Long.MAX_VALUE - total ? Long.MAX_VALUE : total + t;
        }
        return total;
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
        return (int) (dataBytes / type.bytes);
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
        int perChunk = CHUNK / type.bytes;
        for (int c = 0; c < data.length; c++) {
            byte[] chunk = data[c];
            ByteBuffer b = ByteBuffer.wrap(chunk); // big-endian
            int base = c * perChunk;
            int count = chunk.length / type.bytes;
            switch (type) {
                case UNSIGNED_BYTE -> {
                    float divisor = scaleBytesTo01 ? 255f : 1f;
                    for (int i = 0; i < count; i++) {
                        out[base + i] = (chunk[i] & 0xff) / divisor;
                    }
                }
                case SIGNED_BYTE -> {
                    for (int i = 0; i < count; i++) {
                        out[base + i] = chunk[i];
                    }
                }
                case SHORT -> {
                    for (int i = 0; i < count; i++) {
                        out[base + i] = b.getShort(2 * i);
                    }
                }
                case INT -> {
                    for (int i = 0; i < count; i++) {
                        out[base + i] = b.getInt(4 * i);
                    }
                }
                case FLOAT -> b.asFloatBuffer().get(out, base, count);
                case DOUBLE -> {
                    for (int i = 0; i < count; i++) {
                        out[base + i] = (float) b.getDouble(8 * i);
                    }
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
        int perChunk = CHUNK / type.bytes;
        for (int c = 0; c < data.length; c++) {
            byte[] chunk = data[c];
            ByteBuffer b = ByteBuffer.wrap(chunk);
            int base = c * perChunk;
            int count = chunk.length / type.bytes;
            for (int i = 0; i < count; i++) {
                out[base + i] = switch (type) {
                    case UNSIGNED_BYTE -> chunk[i] & 0xff;
                    case SIGNED_BYTE -> chunk[i];
                    case SHORT -> b.getShort(2 * i);
                    default -> b.getInt(4 * i);
                };
            }
        }
        return out;
    }

    /** E.g. {@code t10k-images-idx3-ubyte.gz: unsigned byte (10000, 28, 28)}. */
    @Override
    public String toString() {
        return file + ": " + type + " " + shape(dims);
    }
}
