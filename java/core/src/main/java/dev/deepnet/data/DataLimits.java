package dev.deepnet.data;

import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * How much the data loaders ({@link IdxFile}, {@link ImageFolder}) agree to decode from one file,
 * so that a small hostile file (a decompression bomb) is refused with a {@link DataFormatException}
 * before it costs the memory it declares. Like Pillow's {@code Image.MAX_IMAGE_PIXELS} and Apache
 * POI's zip-bomb ratio, the defaults admit every ordinary dataset and refuse what only a bomb or a
 * broken file declares:
 *
 * <ul>
 *   <li>{@code maxImagePixels} (default {@value #DEFAULT_MAX_IMAGE_PIXELS}): width x height of one
 *       image, read from its header before anything is decoded. ImageNet photos are well under 1 M
 *       pixels, a 100 M pixel photo decodes to a few hundred MB; a 389 KB PNG can declare 400 M.
 *   <li>{@code maxIdxBytes} (default {@value #DEFAULT_MAX_IDX_BYTES}, {@link IdxFile#MAX_DATA_BYTES},
 *       the most one IDX file's data can be): the data bytes an IDX file's dimensions declare. The
 *       MNIST and Fashion-MNIST training images are 47 MB, EMNIST's largest file 550 MB.
 *   <li>{@code maxGzipRatio} (default {@value #DEFAULT_MAX_GZIP_RATIO}): decompressed bytes per
 *       compressed byte of a gzip IDX file, checked while decompressing once more than
 *       {@value #GZIP_RATIO_GRACE_BYTES} bytes have come out (small files are never refused for it).
 *       The Fashion-MNIST files compress about 2:1; a file of zeros compresses 1000:1.
 * </ul>
 *
 * <p>The loaders without a {@code DataLimits} argument use {@link #fromSystemProperties()}, read
 * at every call: {@code -D}{@value #MAX_IMAGE_PIXELS_PROPERTY}, {@code -D}{@value #MAX_IDX_BYTES_PROPERTY}
 * and {@code -D}{@value #MAX_GZIP_RATIO_PROPERTY} override the defaults for the whole JVM. The
 * overloads that take one use exactly what they are given.
 *
 * <p>Whatever the limits, the loaders are also bounded by the JVM: before a large allocation they
 * estimate the heap it needs, and refuse (again a {@code DataFormatException}, saying how much is
 * needed and how much the heap has) when that does not fit in the maximum heap minus what is in
 * use, rather than dying in an {@link OutOfMemoryError} halfway. What is in use is measured after
 * a garbage collection before anything that fits the maximum heap is refused; {@code -Xmx} gives
 * the JVM more. Off-heap memory (the {@link Dataset}'s tensors) is not checked.
 *
 * @param maxImagePixels the most pixels (width x height) one image may declare, at least 1
 * @param maxIdxBytes the most data bytes one IDX file may declare, at least 1
 * @param maxGzipRatio the most decompressed bytes per compressed byte of a gzip IDX file, at least 1
 */
public record DataLimits(long maxImagePixels, long maxIdxBytes, long maxGzipRatio) {

    /** System property overriding {@link #maxImagePixels()}. */
    public static final String MAX_IMAGE_PIXELS_PROPERTY = "deepnet.data.maxImagePixels";
    /** System property overriding {@link #maxIdxBytes()}. */
    public static final String MAX_IDX_BYTES_PROPERTY = "deepnet.data.maxIdxBytes";
    /** System property overriding {@link #maxGzipRatio()}. */
    public static final String MAX_GZIP_RATIO_PROPERTY = "deepnet.data.maxGzipRatio";

    /** Default of {@link #maxImagePixels()}: 100 M pixels. */
    public static final long DEFAULT_MAX_IMAGE_PIXELS = 100_000_000L;
    /** Default of {@link #maxIdxBytes()}: all one IDX file can hold. */
    public static final long DEFAULT_MAX_IDX_BYTES = IdxFile.MAX_DATA_BYTES;
    /** Default of {@link #maxGzipRatio()}: 100 to 1, Apache POI's zip-bomb threshold. */
    public static final long DEFAULT_MAX_GZIP_RATIO = 100;

    /**
     * Decompressed bytes of a gzip IDX file below which its ratio is not checked: the ratio of a
     * small file says little (a header and a few zeros compress well), and costs little.
     */
    public static final long GZIP_RATIO_GRACE_BYTES = 16L << 20;

    public DataLimits {
        requirePositive("maxImagePixels", maxImagePixels);
        requirePositive("maxIdxBytes", maxIdxBytes);
        requirePositive("maxGzipRatio", maxGzipRatio);
    }

    private static void requirePositive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, got " + value);
        }
    }

    /** The built-in defaults, whatever the system properties say. */
    public static DataLimits defaults() {
        return new DataLimits(DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_MAX_IDX_BYTES, DEFAULT_MAX_GZIP_RATIO);
    }

    /**
     * The defaults, each overridden by its system property when set: what the loaders without a
     * {@code DataLimits} argument use.
     *
     * @throws IllegalArgumentException naming the property when one is set to anything but a
     *     whole number of at least 1
     */
    public static DataLimits fromSystemProperties() {
        return fromProperties(System::getProperty);
    }

    /** The defaults overridden by the properties {@code lookup} finds (null for unset). */
    static DataLimits fromProperties(UnaryOperator<String> lookup) {
        return new DataLimits(
                property(lookup, MAX_IMAGE_PIXELS_PROPERTY, DEFAULT_MAX_IMAGE_PIXELS),
                property(lookup, MAX_IDX_BYTES_PROPERTY, DEFAULT_MAX_IDX_BYTES),
                property(lookup, MAX_GZIP_RATIO_PROPERTY, DEFAULT_MAX_GZIP_RATIO));
    }

    private static long property(UnaryOperator<String> lookup, String name, long fallback) {
        String v = lookup.apply(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        long value;
        try {
            value = Long.parseLong(v.strip().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + name + " must be a whole number of at least 1, not '"
                    + v + "'", e);
        }
        if (value < 1) {
            throw new IllegalArgumentException("system property " + name + " must be a whole number of at least 1, not '"
                    + v + "'");
        }
        return value;
    }

    public DataLimits withMaxImagePixels(long pixels) {
        return new DataLimits(pixels, maxIdxBytes, maxGzipRatio);
    }

    public DataLimits withMaxIdxBytes(long bytes) {
        return new DataLimits(maxImagePixels, bytes, maxGzipRatio);
    }

    public DataLimits withMaxGzipRatio(long ratio) {
        return new DataLimits(maxImagePixels, maxIdxBytes, ratio);
    }

    /**
     * Refuses, before it is made, an allocation of about {@code bytes} of heap that the JVM cannot
     * hold now: more than its maximum heap minus what is in use. Garbage counts as in use until it
     * is collected, so an allocation that fits the maximum but not what looks free is refused only
     * after one {@link System#gc()} confirms it, as {@code java.nio} does before refusing a direct
     * buffer: a loop over many images must not skip one because the last left garbage behind.
     *
     * @param what what the memory is for, e.g. "its 784000000 bytes of data"
     */
    static void requireHeap(Path file, long offset, long bytes, String what) throws DataFormatException {
        Runtime r = Runtime.getRuntime();
        long max = r.maxMemory(); // Long.MAX_VALUE when the JVM has no limit
        if (bytes <= free(r) || bytes > max) {
            requireHeap(file, offset, bytes, what, free(r), max);
            return;
        }
        System.gc();
        requireHeap(file, offset, bytes, what, free(r), max);
    }

    private static long free(Runtime r) {
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /** {@link #requireHeap(Path, long, long, String)} with the heap's figures given. */
    static void requireHeap(Path file, long offset, long bytes, String what, long available, long max)
            throws DataFormatException {
        if (bytes > available) {
            throw new DataFormatException(file, offset, "needs about " + mib(bytes) + " of heap for " + what
                    + ", but the JVM has about " + mib(available) + " free of its " + mib(max)
                    + " maximum; give it more with -Xmx, or use a smaller file");
        }
    }

    private static String mib(long bytes) {
        return bytes == Long.MAX_VALUE ? "unlimited" : Math.ceilDiv(bytes, 1L << 20) + " MiB";
    }

    /** {@code a * b}, or {@link Long#MAX_VALUE} when that overflows (both non-negative). */
    static long saturatingMultiply(long a, long b) {
        return Math.multiplyHigh(a, b) != 0 || a * b < 0 ? Long.MAX_VALUE : a * b;
    }
}
