package dev.deepnet.fuzz;

import dev.deepnet.fuzz.Mutator.Mutation;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Mutations that know the image containers ImageIO decodes: PNG chunks (IHDR fields, lengths,
 * order, inserted chunks, the inflated scanlines; CRCs fixed so the edit reaches the decoder),
 * JPEG segments (frame header sizes and components, lengths, order, entropy data), BMP header
 * fields and GIF screen and image descriptors, LZW code size and sub-blocks. Each returns null on
 * an input of another container.
 */
final class ImageMutators {
    private ImageMutators() {}

    static List<Mutator> all() {
        return List.of(ImageMutators::pngIhdr, ImageMutators::pngIhdr, ImageMutators::pngChunkLength, ImageMutators::pngChunkData,
                ImageMutators::pngChunkOrder, ImageMutators::pngInsertChunk, ImageMutators::pngScanlines,
                ImageMutators::jpegFrame, ImageMutators::jpegFrame, ImageMutators::jpegSegmentLength, ImageMutators::jpegSegmentOrder,
                ImageMutators::jpegSegmentData, ImageMutators::jpegEntropyData, ImageMutators::bmpField, ImageMutators::bmpField,
                ImageMutators::gifScreen, ImageMutators::gifImage, ImageMutators::gifSubBlock);
    }

    /** Values worth writing into a 16- or 32-bit image size: zero, one, the famous 20000, the edges. */
    private static final long[] SIZES = {0, 1, 2, 255, 256, 20_000, 32_767, 32_768, 65_535, 65_536, 1 << 20, 0x7FFF_FFFF,
        0x8000_0000L, 0xFFFF_FFFFL};

    private static long size(RandomGenerator r) {
        return SIZES[r.nextInt(SIZES.length)];
    }

    private static String setField(byte[] out, int at, int width, boolean littleEndian, long value, String name) {
        long before = ByteMutators.read(out, at, width, littleEndian);
        ByteMutators.write(out, at, width, value, littleEndian);
        return name + " (bytes " + at + "-" + (at + width - 1) + ") " + before + " -> " + ByteMutators.read(out, at, width, littleEndian);
    }

    // ---------------------------------------------------------------- PNG

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    /** A chunk: the 4-byte length at {@code start}, the type, {@code length} data bytes, the CRC. */
    record Chunk(int start, int length, String type) {
        int data() {
            return start + 8;
        }

        int end() {
            return start + 12 + length;
        }
    }

    /** The chunks that lie wholly inside the file, in order; empty for a file that is not PNG. */
    static List<Chunk> chunks(byte[] in) {
        List<Chunk> out = new ArrayList<>();
        if (in.length < 8 || !Arrays.equals(in, 0, 8, PNG_SIGNATURE, 0, 8)) {
            return out;
        }
        int at = 8;
        while (at + 12 <= in.length) {
            long length = ByteMutators.read(in, at, 4, false);
            if (length > in.length - at - 12) {
                break;
            }
            out.add(new Chunk(at, (int) length, new String(in, at + 4, 4, StandardCharsets.ISO_8859_1)));
            at += 12 + (int) length;
        }
        return out;
    }

    /** Recomputes a chunk's CRC-32 (over type and data), so a reader that checks it reads on. */
    static void fixCrc(byte[] b, Chunk c) {
        CRC32 crc = new CRC32();
        crc.update(b, c.start() + 4, 4 + c.length());
        ByteMutators.write(b, c.data() + c.length(), 4, crc.getValue(), false);
    }

    static byte[] chunk(String type, byte[] data) {
        byte[] b = new byte[12 + data.length];
        ByteMutators.write(b, 0, 4, data.length, false);
        System.arraycopy(type.getBytes(StandardCharsets.ISO_8859_1), 0, b, 4, 4);
        System.arraycopy(data, 0, b, 8, data.length);
        fixCrc(b, new Chunk(0, data.length, type));
        return b;
    }

    /** IHDR: width, height (the 20000 x 20000 kind), bit depth, colour type, compression, filter, interlace. */
    static Mutation pngIhdr(byte[] in, RandomGenerator r) {
        List<Chunk> chunks = chunks(in);
        if (chunks.isEmpty() || !chunks.getFirst().type().equals("IHDR") || chunks.getFirst().length() < 13) {
            return null;
        }
        Chunk ihdr = chunks.getFirst();
        byte[] out = in.clone();
        int d = ihdr.data();
        String what = switch (r.nextInt(5)) {
            case 0 -> setField(out, d, 4, false, size(r), "IHDR width");
            case 1 -> setField(out, d + 4, 4, false, size(r), "IHDR height");
            case 2 -> {
                long side = size(r);
                setField(out, d, 4, false, side, "IHDR width");
                yield setField(out, d + 4, 4, false, side, "IHDR width and height");
            }
            case 3 -> setField(out, d + 8, 1, false, new int[] {0, 1, 2, 3, 4, 8, 16, 255}[r.nextInt(8)], "IHDR bit depth");
            default -> {
                int field = 9 + r.nextInt(4); // colour type, compression, filter, interlace
                yield setField(out, d + field, 1, false, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 255}[r.nextInt(9)],
                        List.of("IHDR colour type", "IHDR compression", "IHDR filter", "IHDR interlace").get(field - 9));
            }
        };
        fixCrc(out, ihdr);
        return new Mutation(out, what + " (CRC fixed)");
    }

    static Mutation pngChunkLength(byte[] in, RandomGenerator r) {
        Chunk c = JsonMutations.pick(chunks(in), r);
        if (c == null) {
            return null;
        }
        byte[] out = in.clone();
        long to = r.nextBoolean() ? size(r) : c.length() + (r.nextBoolean() ? 1 : -1);
        return new Mutation(out, setField(out, c.start(), 4, false, to, c.type() + " chunk length"));
    }

    /** Bytes inside a chunk's data changed, the CRC fixed: the decoder, not the CRC check, meets the damage. */
    static Mutation pngChunkData(byte[] in, RandomGenerator r) {
        List<Chunk> withData = chunks(in).stream().filter(c -> c.length() > 0).toList();
        Chunk c = JsonMutations.pick(withData, r);
        if (c == null) {
            return null;
        }
        byte[] data = Arrays.copyOfRange(in, c.data(), c.data() + c.length());
        Mutation m = r.nextBoolean() ? ByteMutators.setByte(data, r) : ByteMutators.setRun(data, r);
        byte[] out = in.clone();
        System.arraycopy(m.bytes(), 0, out, c.data(), c.length());
        fixCrc(out, c);
        return new Mutation(out, c.type() + " chunk data: " + m.description() + " (CRC fixed)");
    }

    /** A chunk duplicated, deleted, or swapped with the next: IHDR twice, no IEND, IDAT before IHDR. */
    static Mutation pngChunkOrder(byte[] in, RandomGenerator r) {
        List<Chunk> chunks = chunks(in);
        if (chunks.isEmpty()) {
            return null;
        }
        int i = r.nextInt(chunks.size());
        Chunk c = chunks.get(i);
        byte[] bytes = Arrays.copyOfRange(in, c.start(), c.end());
        return switch (r.nextInt(3)) {
            case 0 -> new Mutation(ByteMutators.insert(in, c.end(), bytes), "duplicated chunk " + i + " (" + c.type() + ")");
            case 1 -> new Mutation(ByteMutators.replace(in, c.start(), c.end(), new byte[0]), "deleted chunk " + i + " (" + c.type() + ")");
            default -> {
                if (i + 1 >= chunks.size()) {
                    yield null;
                }
                Chunk next = chunks.get(i + 1);
                byte[] swapped = ByteMutators.concat(Arrays.copyOfRange(in, next.start(), next.end()), bytes);
                yield new Mutation(ByteMutators.replace(in, c.start(), next.end(), swapped), "swapped chunks " + i + " ("
                        + c.type() + ") and " + (i + 1) + " (" + next.type() + ")");
            }
        };
    }

    /** A chunk of a known or unknown type, random data, a valid CRC, after IHDR or before IEND. */
    static Mutation pngInsertChunk(byte[] in, RandomGenerator r) {
        List<Chunk> chunks = chunks(in);
        if (chunks.isEmpty()) {
            return null;
        }
        String[] types = {"PLTE", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs", "tIME", "tEXt", "zTXt",
            "iTXt", "sPLT", "hIST", "IDAT", "IHDR", "IEND", "abCD", "ABCD"};
        String type = types[r.nextInt(types.length)];
        byte[] data = new byte[r.nextInt(4) == 0 ? 3 * (1 + r.nextInt(256)) : r.nextInt(33)];
        r.nextBytes(data);
        int at = r.nextBoolean() ? chunks.getFirst().end() : chunks.getLast().start();
        return new Mutation(ByteMutators.insert(in, at, chunk(type, data)), "inserted a " + type + " chunk of " + data.length
                + " random bytes at offset " + at);
    }

    /**
     * The image data inflated, its scanlines damaged (a filter byte, a run of bytes, a cut, extra
     * bytes), deflated again into one IDAT with a valid CRC: the decoder's filters and row
     * arithmetic meet the damage rather than zlib.
     */
    static Mutation pngScanlines(byte[] in, RandomGenerator r) {
        List<Chunk> idats = chunks(in).stream().filter(c -> c.type().equals("IDAT")).toList();
        if (idats.isEmpty()) {
            return null;
        }
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        for (Chunk c : idats) {
            z.write(in, c.data(), c.length());
        }
        byte[] raw = inflate(z.toByteArray());
        if (raw == null || raw.length == 0) {
            return null;
        }
        Mutation m = switch (r.nextInt(4)) {
            case 0 -> {
                byte[] out = raw.clone();
                int at = r.nextInt(out.length);
                out[at] = (byte) (5 + r.nextInt(251)); // filter types are 0-4
                yield new Mutation(out, "byte " + at + " -> " + (out[at] & 0xff) + " (an invalid filter type where a row starts)");
            }
            case 1 -> ByteMutators.setRun(raw, r);
            case 2 -> ByteMutators.truncate(raw, r);
            default -> ByteMutators.insertRandom(raw, r);
        };
        byte[] idat = chunk("IDAT", deflate(m.bytes()));
        byte[] out = ByteMutators.replace(in, idats.getFirst().start(), idats.getLast().end(), idat);
        return new Mutation(out, "inflated scanlines: " + m.description() + " (deflated into one IDAT, CRC fixed)");
    }

    private static byte[] inflate(byte[] zlib) {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(zlib);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            while (!inflater.finished() && out.size() < (1 << 20)) {
                int n = inflater.inflate(buffer);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    return null; // truncated or odd: an earlier mutation broke it
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        } catch (DataFormatException corrupt) {
            return null; // an earlier mutation broke the stream; nothing for this one to edit
        } finally {
            inflater.end();
        }
    }

    private static byte[] deflate(byte[] raw) {
        Deflater deflater = new Deflater();
        try {
            deflater.setInput(raw);
            deflater.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            while (!deflater.finished()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
            return out.toByteArray();
        } finally {
            deflater.end();
        }
    }

    // ---------------------------------------------------------------- JPEG

    /** A marker segment: {@code FF marker} at {@code start}, {@code end} exclusive (for SOS: its header only). */
    record Segment(int start, int marker, int end) {}

    /** The segments up to the first scan's header, then the scan's entropy-coded data as a last pseudo-segment (marker 0). */
    static List<Segment> segments(byte[] in) {
        List<Segment> out = new ArrayList<>();
        if (in.length < 4 || (in[0] & 0xff) != 0xFF || (in[1] & 0xff) != 0xD8) {
            return out;
        }
        int at = 2;
        while (at + 4 <= in.length && (in[at] & 0xff) == 0xFF) {
            int marker = in[at + 1] & 0xff;
            int end = at + 2 + (int) ByteMutators.read(in, at + 2, 2, false);
            if (marker == 0xD9 || end > in.length || end < at + 4) {
                break;
            }
            out.add(new Segment(at, marker, end));
            if (marker == 0xDA) {
                int data = end;
                while (end + 1 < in.length && !((in[end] & 0xff) == 0xFF && (in[end + 1] & 0xff) != 0
                        && ((in[end + 1] & 0xff) < 0xD0 || (in[end + 1] & 0xff) > 0xD7))) {
                    end++;
                }
                out.add(new Segment(data, 0, end));
                break;
            }
            at = end;
        }
        return out;
    }

    /** The frame header (SOF0-2): sizes, precision, component count, a component's sampling or table. */
    static Mutation jpegFrame(byte[] in, RandomGenerator r) {
        Segment sof = null;
        for (Segment s : segments(in)) {
            if (s.marker() >= 0xC0 && s.marker() <= 0xC2 && s.end() - s.start() >= 10) {
                sof = s;
            }
        }
        if (sof == null) {
            return null;
        }
        byte[] out = in.clone();
        int p = sof.start() + 4;
        int components = (sof.end() - p - 6) / 3;
        String what = switch (r.nextInt(components > 0 ? 6 : 4)) {
            case 0 -> setField(out, p + 1, 2, false, size(r), "SOF height");
            case 1 -> setField(out, p + 3, 2, false, size(r), "SOF width");
            case 2 -> setField(out, p, 1, false, new int[] {0, 1, 8, 12, 16, 255}[r.nextInt(6)], "SOF precision");
            case 3 -> setField(out, p + 5, 1, false, new int[] {0, 1, 2, 3, 4, 5, 255}[r.nextInt(7)], "SOF component count");
            case 4 -> setField(out, p + 6 + 3 * r.nextInt(components) + 1, 1, false,
                    new int[] {0x00, 0x01, 0x10, 0x44, 0x55, 0x0F, 0xF0, 0xFF}[r.nextInt(8)], "SOF component sampling factors");
            default -> setField(out, p + 6 + 3 * r.nextInt(components) + 2, 1, false, new int[] {0, 1, 3, 4, 255}[r.nextInt(5)],
                    "SOF component quantisation table");
        };
        return new Mutation(out, what);
    }

    static Mutation jpegSegmentLength(byte[] in, RandomGenerator r) {
        List<Segment> segments = segments(in).stream().filter(s -> s.marker() != 0).toList();
        Segment s = JsonMutations.pick(segments, r);
        if (s == null) {
            return null;
        }
        long length = ByteMutators.read(in, s.start() + 2, 2, false);
        long[] to = {0, 1, 2, length - 1, length + 1, 0xFFFF};
        byte[] out = in.clone();
        return new Mutation(out, setField(out, s.start() + 2, 2, false, to[r.nextInt(to.length)],
                String.format("length of segment FF%02X", s.marker())));
    }

    static Mutation jpegSegmentOrder(byte[] in, RandomGenerator r) {
        List<Segment> segments = segments(in).stream().filter(s -> s.marker() != 0).toList();
        Segment s = JsonMutations.pick(segments, r);
        if (s == null) {
            return null;
        }
        String name = String.format("segment FF%02X at %d", s.marker(), s.start());
        if (r.nextBoolean()) {
            return new Mutation(ByteMutators.insert(in, s.end(), Arrays.copyOfRange(in, s.start(), s.end())), "duplicated " + name);
        }
        return new Mutation(ByteMutators.replace(in, s.start(), s.end(), new byte[0]), "deleted " + name);
    }

    /** Bytes inside a segment's payload: quantisation and Huffman tables, the scan header, an APP segment. */
    static Mutation jpegSegmentData(byte[] in, RandomGenerator r) {
        List<Segment> segments = segments(in).stream().filter(s -> s.marker() != 0 && s.end() - s.start() > 4).toList();
        Segment s = JsonMutations.pick(segments, r);
        if (s == null) {
            return null;
        }
        byte[] out = in.clone();
        int at = s.start() + 4 + r.nextInt(s.end() - s.start() - 4);
        out[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : new int[] {0, 1, 0x0F, 0x10, 0x11, 0xFF}[r.nextInt(6)]);
        return new Mutation(out, String.format("segment FF%02X byte %d -> 0x%02X", s.marker(), at, out[at] & 0xff));
    }

    /** The entropy-coded data: bytes flipped, a restart or end marker planted, or the scan cut short. */
    static Mutation jpegEntropyData(byte[] in, RandomGenerator r) {
        List<Segment> segments = segments(in);
        Segment data = segments.isEmpty() ? null : segments.getLast();
        if (data == null || data.marker() != 0 || data.end() <= data.start()) {
            return null;
        }
        int at = data.start() + r.nextInt(data.end() - data.start());
        return switch (r.nextInt(3)) {
            case 0 -> {
                byte[] out = in.clone();
                out[at] ^= (byte) (1 << r.nextInt(8));
                yield new Mutation(out, "entropy-coded byte " + at + " flipped");
            }
            case 1 -> {
                byte[] marker = {(byte) 0xFF, (byte) new int[] {0xD0, 0xD7, 0xD9, 0xDA, 0xC4, 0xDB}[r.nextInt(6)]};
                yield new Mutation(ByteMutators.insert(in, at, marker), String.format("marker FF%02X planted at %d", marker[1] & 0xff, at));
            }
            default -> new Mutation(Arrays.copyOf(in, at), "cut inside the entropy-coded data at " + at);
        };
    }

    // ---------------------------------------------------------------- BMP

    /** BMP header fields (little-endian): offset, width in bytes, name, values worth trying beyond the sizes. */
    private record BmpField(int at, int width, String name, long... values) {}

    private static final List<BmpField> BMP_FIELDS = List.of(
            new BmpField(2, 4, "file size"), new BmpField(10, 4, "pixel data offset", 0, 14, 54, 0xFFFF_FFFFL),
            new BmpField(14, 4, "info header size", 12, 16, 40, 52, 56, 64, 108, 124),
            new BmpField(18, 4, "width", -1, -20_000), new BmpField(22, 4, "height", -1, -3, -20_000),
            new BmpField(26, 2, "planes", 0, 2), new BmpField(28, 2, "bits per pixel", 1, 2, 4, 8, 16, 24, 32, 48, 64),
            new BmpField(30, 4, "compression", 1, 2, 3, 4, 5, 6, 11), new BmpField(34, 4, "image size"),
            new BmpField(46, 4, "colours used", 1, 16, 256, 257), new BmpField(50, 4, "important colours"));

    static Mutation bmpField(byte[] in, RandomGenerator r) {
        if (in.length < 54 || in[0] != 'B' || in[1] != 'M') {
            return null;
        }
        BmpField f = BMP_FIELDS.get(r.nextInt(BMP_FIELDS.size()));
        long to = f.values().length > 0 && r.nextBoolean() ? f.values()[r.nextInt(f.values().length)] : size(r);
        byte[] out = in.clone();
        return new Mutation(out, setField(out, f.at(), f.width(), true, to, "BMP " + f.name()));
    }

    // ---------------------------------------------------------------- GIF

    private static boolean isGif(byte[] in) {
        return in.length >= 13 && in[0] == 'G' && in[1] == 'I' && in[2] == 'F';
    }

    /** Offset just after the global colour table. */
    private static int afterGlobalTable(byte[] in) {
        int packed = in[10] & 0xff;
        return 13 + ((packed & 0x80) != 0 ? 3 << ((packed & 7) + 1) : 0);
    }

    /** Offset of the first image descriptor (0x2C), skipping extensions; -1 if there is none. */
    private static int imageDescriptor(byte[] in) {
        int at = afterGlobalTable(in);
        while (at < in.length) {
            int b = in[at] & 0xff;
            if (b == 0x2C) {
                return at + 10 <= in.length ? at : -1;
            }
            if (b != 0x21 || at + 2 >= in.length) {
                return -1;
            }
            at += 2; // introducer and label, then sub-blocks
            while (at < in.length && in[at] != 0) {
                at += 1 + (in[at] & 0xff);
            }
            at++;
        }
        return -1;
    }

    /** The logical screen: width, height, the packed byte (global table flag and size). */
    static Mutation gifScreen(byte[] in, RandomGenerator r) {
        if (!isGif(in)) {
            return null;
        }
        byte[] out = in.clone();
        String what = switch (r.nextInt(3)) {
            case 0 -> setField(out, 6, 2, true, size(r), "GIF screen width");
            case 1 -> setField(out, 8, 2, true, size(r), "GIF screen height");
            default -> setField(out, 10, 1, true, r.nextInt(256), "GIF screen packed fields");
        };
        return new Mutation(out, what);
    }

    /** The first image descriptor: position, size, packed byte, and the LZW minimum code size after it. */
    static Mutation gifImage(byte[] in, RandomGenerator r) {
        int d = isGif(in) ? imageDescriptor(in) : -1;
        if (d < 0) {
            return null;
        }
        byte[] out = in.clone();
        int field = r.nextInt(6);
        String what = switch (field) {
            case 0, 1, 2, 3 -> setField(out, d + 1 + 2 * field, 2, true, size(r),
                    "GIF image " + List.of("left", "top", "width", "height").get(field));
            case 4 -> setField(out, d + 9, 1, true, r.nextInt(256), "GIF image packed fields");
            default -> {
                int lzw = d + 10 + (((in[d + 9] & 0x80) != 0) ? 3 << ((in[d + 9] & 7) + 1) : 0);
                yield lzw < out.length ? setField(out, lzw, 1, true, new int[] {0, 1, 2, 7, 8, 11, 12, 255}[r.nextInt(8)],
                        "GIF LZW minimum code size") : null;
            }
        };
        return what == null ? null : new Mutation(out, what);
    }

    /** A sub-block length byte of the first image's data changed: blocks that run past the data or stop early. */
    static Mutation gifSubBlock(byte[] in, RandomGenerator r) {
        int d = isGif(in) ? imageDescriptor(in) : -1;
        if (d < 0) {
            return null;
        }
        int at = d + 10 + (((in[d + 9] & 0x80) != 0) ? 3 << ((in[d + 9] & 7) + 1) : 0) + 1;
        List<Integer> lengths = new ArrayList<>();
        while (at < in.length && in[at] != 0) {
            lengths.add(at);
            at += 1 + (in[at] & 0xff);
        }
        if (lengths.isEmpty()) {
            return null;
        }
        int block = lengths.get(r.nextInt(lengths.size()));
        byte[] out = in.clone();
        return new Mutation(out, setField(out, block, 1, true, new int[] {0, 1, 254, 255, (in[block] & 0xff) + 1,
            (in[block] & 0xff) - 1}[r.nextInt(6)], "GIF data sub-block length"));
    }
}
