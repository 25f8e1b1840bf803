package dev.deepnet.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * A strict gzip decompressor (RFC 1952), streaming. Unlike {@link java.util.zip.GZIPInputStream},
 * which silently ignores whatever follows the last member, it refuses anything after the data
 * that is not another gzip member; and it checks every member's CRC-32 and length. Problems are
 * {@link ZipException}s (or {@link EOFException}s for a cut file) naming the compressed byte.
 */
final class GzipInput extends InputStream {

    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;

    private final PushbackInputStream in;
    private final long fileSize;
    private final byte[] buffer;
    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    private long consumed; // compressed bytes taken from the file, net of any pushed back
    private int filled; // bytes of buffer last given to the inflater
    private boolean done;

    /** Reads the first member's header from {@code in}, a file of {@code fileSize} bytes. */
    GzipInput(InputStream in, long fileSize, int bufferSize) throws IOException {
        this.in = new PushbackInputStream(in, bufferSize);
        this.fileSize = fileSize;
        this.buffer = new byte[bufferSize];
        readHeader();
    }

    /**
     * Compressed bytes taken from the file so far, headers included: with the bytes read, how
     * far the data expands.
     */
    long compressedBytesRead() {
        return consumed;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!done) {
            int n;
            try {
                n = inflater.inflate(b, off, len);
            } catch (DataFormatException e) {
                throw new ZipException("invalid deflate data before compressed byte " + consumed + ": " + e.getMessage());
            }
            if (n > 0) {
                crc.update(b, off, n);
                return n;
            }
            if (inflater.finished()) {
                endMember();
            } else if (inflater.needsInput()) {
                filled = in.read(buffer);
                if (filled < 0) {
                    throw new EOFException("the file ends inside the deflate data, after " + consumed
                            + " compressed bytes: it is truncated");
                }
                consumed += filled;
                inflater.setInput(buffer, 0, filled);
            } else {
                throw new ZipException("deflate data at compressed byte " + consumed + " needs a preset dictionary");
            }
        }
        return -1;
    }

    /** Checks the trailer; then the file must end or another member begin. */
    private void endMember() throws IOException {
        int remaining = inflater.getRemaining();
        in.unread(buffer, filled - remaining, remaining);
        consumed -= remaining;
        long trailer = consumed;
        long storedCrc = u32();
        long storedSize = u32();
        if (storedCrc != crc.getValue()) {
            throw new ZipException(String.format("CRC-32 mismatch in the trailer at compressed byte %d: stored %08x,"
                    + " data gives %08x", trailer, storedCrc, crc.getValue()));
        }
        if (storedSize != (inflater.getBytesWritten() & 0xffffffffL)) {
            throw new ZipException("length mismatch in the trailer at compressed byte " + trailer + ": stored " + storedSize
                    + " (mod 2^32), data has " + inflater.getBytesWritten() + " bytes");
        }
        int next = in.read();
        if (next < 0) {
            done = true;
            return;
        }
        in.unread(next);
        if (next != 0x1f) {
            throw new ZipException((fileSize - consumed) + " bytes of trailing data after the gzip data, from compressed byte "
                    + consumed);
        }
        readHeader();
    }

    private void readHeader() throws IOException {
        long start = consumed;
        if (u8() != 0x1f || u8() != 0x8b) {
            throw new ZipException("no gzip member at compressed byte " + start + " (expected 1f 8b)");
        }
        int method = u8();
        if (method != 8) {
            throw new ZipException("compression method " + method + " at compressed byte " + (start + 2)
                    + " is not deflate (8)");
        }
        int flags = u8();
        skip(6); // modification time, extra flags, operating system
        if ((flags & FEXTRA) != 0) {
            skip(u8() | u8() << 8);
        }
        if ((flags & FNAME) != 0) {
            while (u8() != 0) { // zero-terminated file name
            }
        }
        if ((flags & FCOMMENT) != 0) {
            while (u8() != 0) { // zero-terminated comment
            }
        }
        if ((flags & FHCRC) != 0) {
            skip(2);
        }
        inflater.reset();
        crc.reset();
    }

    private int u8() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("the file ends inside a gzip header or trailer, after " + consumed
                    + " compressed bytes: it is truncated");
        }
        consumed++;
        return b;
    }

    private long u32() throws IOException {
        return u8() | u8() << 8 | u8() << 16 | (long) u8() << 24;
    }

    private void skip(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            u8();
        }
    }

    @Override
    public void close() throws IOException {
        inflater.end();
        in.close();
    }
}
