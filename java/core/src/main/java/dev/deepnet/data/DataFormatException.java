package dev.deepnet.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A data file (an IDX file, an image, an image folder) that is malformed or does not hold what
 * the caller asked for. The message starts with the file and, where the problem has a place in
 * the file, the byte offset, e.g. {@code t10k-images-idx3-ubyte: at byte 7840016: 3 trailing bytes
 * after the 7840000 bytes of data declared by dimensions (10000, 28, 28) of unsigned byte}.
 *
 * <p>Not to be confused with {@link java.util.zip.DataFormatException}, which the inflater throws.
 */
public final class DataFormatException extends IOException {

    private final Path file;
    private final long offset;

    /** A problem with {@code file} as a whole (no byte offset). */
    public DataFormatException(Path file, String problem) {
        this(file, -1, problem, null);
    }

    /** A problem at byte {@code offset} of {@code file}. */
    public DataFormatException(Path file, long offset, String problem) {
        this(file, offset, problem, null);
    }

    /** A problem with {@code file} (at {@code offset}, or -1 for none) found through {@code cause}. */
    public DataFormatException(Path file, long offset, String problem, Throwable cause) {
        super(file + ": " + (offset >= 0 ? "at byte " + offset + ": " : "") + problem, cause);
        this.file = file;
        this.offset = offset;
    }

    /** The file the problem is in. */
    public Path file() {
        return file;
    }

    /** The byte offset of the problem in the file, or -1 when it has none. */
    public long offset() {
        return offset;
    }
}
