package dev.deepnet.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.Adler32;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;

/**
 * Small, well-formed files that decode to far more than their size: gzip IDX files and PNGs of
 * zeros, and PNG, JPEG and BMP files whose headers were patched to declare huge sizes.
 *
 * <p>A file of N bytes of zeros is built without compressing N bytes: one block of zeros is
 * deflated once with a full flush, which byte-aligns the output and resets the compressor, so
 * the compressed block can be repeated as often as wanted and still form one valid deflate
 * stream. Only the checksum passes over all N bytes.
 */
final class DecompressionBombs {

    private DecompressionBombs() {}

    /** The uncompressed stream {@code prefix + repeats x block + suffix}. */
    private record Content(byte[] prefix, byte[] block, long repeats, byte[] suffix) {
        long length() {
            return prefix.length + repeats * block.length + suffix.length;
        }
    }

    /** Raw deflate data (RFC 1951) of {@code content}, the block compressed only once. */
    private static byte[] deflate(Content content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(compressed(content.prefix(), false));
        byte[] block = compressed(content.block(), false);
        for (long i = 0; i < content.repeats(); i++) {
            out.writeBytes(block);
        }
        out.writeBytes(compressed(content.suffix(), true));
        return out.toByteArray();
    }

    /**
     * {@code input} deflated by a fresh compressor: the stream's final block when {@code last},
     * else blocks ended by a full flush, after which any deflate data may follow.
     */
    private static byte[] compressed(byte[] input, boolean last) {
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        try {
            d.setInput(input);
            if (last) {
                d.finish();
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[1 << 16];
            while (true) {
                int n = d.deflate(buffer, 0, buffer.length, last ? Deflater.NO_FLUSH : Deflater.FULL_FLUSH);
                out.write(buffer, 0, n);
                // a flush is complete when it leaves room in the buffer; a finish when the deflater says so
                if (last ? d.finished() : n < buffer.length) {
                    return out.toByteArray();
                }
            }
        } finally {
            d.end();
        }
    }

    /** A gzip file (RFC 1952) of {@code content}. */
    private static byte[] gzip(Content content) {
        CRC32 crc = new CRC32();
        crc.update(content.prefix());
        for (long i = 0; i < content.repeats(); i++) {
            crc.update(content.block());
        }
        crc.update(content.suffix());
        byte[] deflated = deflate(content);
        ByteBuffer b = ByteBuffer.allocate(10 + deflated.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff}); // deflate, no flags, unknown OS
        b.put(deflated).putInt((int) crc.getValue()).putInt((int) content.length());
        return b.array();
    }

    /**
     * A gzip IDX file of unsigned bytes of dimensions {@code dims}, all zero, e.g. (1,000,000,
     * 28, 28): 784 MB of pixels in about 760 KB.
     */
    static byte[] gzipIdxOfZeros(int... dims) {
        byte[] header = IdxFileTest.idx(0x08, dims, new byte[0]);
        long bytes = 1;
        for (int d : dims) {
            bytes *= d;
        }
        byte[] block = new byte[1 << 20];
        return gzip(new Content(header, block, bytes / block.length, new byte[(int) (bytes % block.length)]));
    }

    /**
     * A valid 8-bit grey, non-interlaced PNG of {@code width x height} black pixels ({@code height}
     * a multiple of 50): 20000 x 20000, 400 M pixels, is about 400 KB.
     */
    static byte[] pngOfZeros(int width, int height) {
        if (height % 50 != 0) {
            throw new IllegalArgumentException("height must be a multiple of 50, got " + height);
        }
        byte[] rows = new byte[50 * (1 + width)]; // each row: filter type 0 (none), then its pixels
        Content content = new Content(new byte[0], rows, height / 50, new byte[0]);
        Adler32 adler = new Adler32();
        for (long i = 0; i < content.repeats(); i++) {
            adler.update(rows);
        }
        byte[] deflated = deflate(content);
        // zlib (RFC 1950): CMF 0x78 (deflate, 32 KiB window), FLG 0x9c (default level, check bits), data, Adler-32
        byte[] zlib = ByteBuffer.allocate(2 + deflated.length + 4).put((byte) 0x78).put((byte) 0x9c).put(deflated)
                .putInt((int) adler.getValue()).array();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        png.writeBytes(chunk("IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put(new byte[] {8, 0, 0, 0, 0}).array())); // depth 8, grey, deflate, adaptive filtering, no interlace
        png.writeBytes(chunk("IDAT", zlib));
        png.writeBytes(chunk("IEND", new byte[0]));
        return png.toByteArray();
    }

    /**
     * A small PNG whose header (IHDR, CRC-32 recomputed) was changed to declare {@code width x
     * height}: sizes no real file could be built for in a test, e.g. 200000 x 200000.
     */
    static byte[] pngDeclaring(int width, int height) {
        byte[] png = pngOfZeros(4, 50);
        ByteBuffer b = ByteBuffer.wrap(png); // signature (8), IHDR length (4), "IHDR", width, height, 5 bytes, CRC
        b.putInt(16, width).putInt(20, height);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        b.putInt(29, (int) crc.getValue());
        return png;
    }

    /** A PNG chunk: length, type, data, CRC-32 of type and data. */
    private static byte[] chunk(String type, byte[] data) {
        CRC32 crc = new CRC32();
        byte[] name = type.getBytes(StandardCharsets.US_ASCII);
        crc.update(name);
        crc.update(data);
        return ByteBuffer.allocate(12 + data.length).putInt(data.length).put(name).put(data).putInt((int) crc.getValue())
                .array();
    }

    /** A small baseline JPEG whose start-of-frame marker was changed to declare {@code width x height}. */
    static byte[] jpegDeclaring(int width, int height) throws IOException {
        byte[] jpeg = encoded(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "jpg");
        for (int i = 2; i + 8 < jpeg.length; i++) {
            if ((jpeg[i] & 0xff) == 0xff && (jpeg[i + 1] & 0xff) == 0xc0) { // SOF0: length, precision, height, width
                ByteBuffer.wrap(jpeg, i + 5, 4).putShort((short) height).putShort((short) width);
                return jpeg;
            }
        }
        throw new IllegalStateException("no SOF0 marker in ImageIO's JPEG: " + Arrays.toString(Arrays.copyOf(jpeg, 40)));
    }

    /** A small BMP whose header was changed to declare {@code width x height}. */
    static byte[] bmpDeclaring(int width, int height) throws IOException {
        byte[] bmp = encoded(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "bmp");
        ByteBuffer.wrap(bmp, 18, 8).order(ByteOrder.LITTLE_ENDIAN).putInt(width).putInt(height);
        return bmp;
    }

    static byte[] encoded(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) {
            throw new IllegalStateException("no ImageIO writer for " + format);
        }
        return out.toByteArray();
    }
}
