package dev.deepnet.fuzz;

import dev.deepnet.data.DataFormatException;
import dev.deepnet.data.Dataset;
import dev.deepnet.data.IdxFile;
import dev.deepnet.fuzz.Mutator.Mutation;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * IDX files (MNIST's format), plain and gzip, through {@link IdxFile#read} (every element read as
 * floats and ints) and, when a file looks like images or labels, {@link IdxFile#loadImages} with
 * a valid partner file. Structure mutations edit the magic number, type code, rank and dimension
 * sizes — inside the gzip stream for compressed files, recompressed after — and the gzip framing
 * itself: flags and their fields, method, trailer, trailing bytes, extra members, and bombs (a
 * tiny file inflating to hundreds of megabytes).
 */
public final class IdxFuzzFormat implements FuzzFormat {

    /** Element types by code, and their sizes: the format's table. */
    private static final int[] TYPE_CODES = {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E};
    private static final int[] TYPE_BYTES = {1, 1, 2, 4, 4, 8};

    /** More than any seed inflates to: a mutator never unpacks a bomb it meets. */
    private static final int MAX_INFLATED = 1 << 20;

    @Override
    public String name() {
        return "idx";
    }

    @Override
    public List<Seed> seeds(Path scratch) {
        SplittableRandom random = new SplittableRandom(5);
        List<Seed> plain = new ArrayList<>();
        plain.add(new Seed("images-u8-3x4x4", idx(0x08, new int[] {3, 4, 4}, bytes(random, 48))));
        plain.add(new Seed("labels-u8-3", idx(0x08, new int[] {3}, new byte[] {0, 2, 1})));
        plain.add(new Seed("labels-i32-3", idx(0x0C, new int[] {3}, new byte[] {0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 4})));
        plain.add(new Seed("floats-2x3", idx(0x0D, new int[] {2, 3}, bytes(random, 24))));
        plain.add(new Seed("doubles-2", idx(0x0E, new int[] {2}, bytes(random, 16))));
        plain.add(new Seed("labels-i16-4", idx(0x0B, new int[] {4}, new byte[] {0, 1, 0, 2, 0, 3, 0, 9})));
        plain.add(new Seed("signed-bytes-1x5", idx(0x09, new int[] {1, 5}, bytes(random, 5))));
        List<Seed> seeds = new ArrayList<>(plain);
        for (Seed s : plain) {
            seeds.add(new Seed(s.name() + ".gz", gzip(s.bytes())));
        }
        byte[] images = plain.getFirst().bytes();
        seeds.add(new Seed("images-u8-3x4x4.gz-two-members", ByteMutators.concat(
                gzip(Arrays.copyOf(images, 20)), gzip(Arrays.copyOfRange(images, 20, images.length)))));
        return seeds;
    }

    @Override
    public List<Mutator> structureMutators() {
        return List.of(insideGzip(IdxFuzzFormat::magic), insideGzip(IdxFuzzFormat::typeCode), insideGzip(IdxFuzzFormat::rank),
                insideGzip(IdxFuzzFormat::dimension), insideGzip(IdxFuzzFormat::dimension), insideGzip(IdxFuzzFormat::retype),
                insideGzip(IdxFuzzFormat::reshape), insideGzip(IdxFuzzFormat::dataLength), IdxFuzzFormat::gzipFlags,
                IdxFuzzFormat::gzipHeaderByte, IdxFuzzFormat::gzipTrailer, IdxFuzzFormat::gzipAppend, IdxFuzzFormat::gzipBomb);
    }

    @Override
    public void load(Path file, Path scratch) throws IOException {
        IdxFile f = IdxFile.read(file);
        int[] dims = f.dims();
        f.floats(false);
        if (f.type().isInteger()) {
            f.ints();
        }
        if (f.type() == IdxFile.Type.UNSIGNED_BYTE && dims.length == 3) {
            byte[] labels = new byte[dims[0]];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = (byte) (i % 10);
            }
            Path partner = Files.write(scratch.resolve("partner-labels.idx"), idx(0x08, new int[] {dims[0]}, labels));
            try (Dataset d = IdxFile.loadImages(file, partner, 10)) {
                d.size();
            }
        } else if (f.type().isInteger() && dims.length == 1) {
            Path partner = Files.write(scratch.resolve("partner-images.idx"), idx(0x08, new int[] {dims[0], 2, 2},
                    new byte[dims[0] * 4]));
            try (Dataset d = IdxFile.loadImages(partner, file, 10)) {
                d.size();
            }
        }
    }

    @Override
    public Class<? extends IOException> rejection() {
        return DataFormatException.class;
    }

    // ---------------------------------------------------------------- the IDX header

    /** An IDX file: bytes 0-1 zero, the type code, the rank, the sizes (big-endian), the data. */
    static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(data).array();
    }

    private static byte[] bytes(RandomGenerator r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    static Mutation magic(byte[] in, RandomGenerator r) {
        if (in.length < 2) {
            return null;
        }
        byte[] out = in.clone();
        int at = r.nextInt(2);
        out[at] = (byte) (1 + r.nextInt(255));
        return new Mutation(out, String.format("magic byte %d -> 0x%02X", at, out[at] & 0xff));
    }

    static Mutation typeCode(byte[] in, RandomGenerator r) {
        if (in.length < 3) {
            return null;
        }
        int[] codes = {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x0A, 0x0F, 0xFF};
        byte[] out = in.clone();
        out[2] = (byte) codes[r.nextInt(codes.length)];
        return new Mutation(out, String.format("type code 0x%02X -> 0x%02X", in[2] & 0xff, out[2] & 0xff));
    }

    static Mutation rank(byte[] in, RandomGenerator r) {
        if (in.length < 4) {
            return null;
        }
        int[] ranks = {0, 1, 2, 3, 4, 255, (in[3] & 0xff) + 1, (in[3] & 0xff) - 1};
        byte[] out = in.clone();
        out[3] = (byte) ranks[r.nextInt(ranks.length)];
        return new Mutation(out, "rank " + (in[3] & 0xff) + " -> " + (out[3] & 0xff));
    }

    /** One dimension size: an interesting int, off by one, doubled, or another dimension's size. */
    static Mutation dimension(byte[] in, RandomGenerator r) {
        int rank = in.length < 4 ? 0 : Math.min(in[3] & 0xff, (in.length - 4) / 4);
        if (rank == 0) {
            return null;
        }
        int k = r.nextInt(rank);
        int at = 4 + 4 * k;
        int size = (int) ByteMutators.read(in, at, 4, false);
        int to = switch (r.nextInt(4)) {
            case 0 -> size + (r.nextBoolean() ? 1 : -1);
            case 1 -> 2 * size;
            case 2 -> (int) ByteMutators.read(in, 4 + 4 * r.nextInt(rank), 4, false);
            default -> InterestingValues.int32(r);
        };
        byte[] out = in.clone();
        ByteMutators.write(out, at, 4, to, false);
        return new Mutation(out, "dimension " + k + " (bytes " + at + "-" + (at + 3) + ") " + Integer.toUnsignedString(size)
                + " -> " + Integer.toUnsignedString(to));
    }

    /** Another element type with the data resized to fit: a valid file of a different type. */
    static Mutation retype(byte[] in, RandomGenerator r) {
        Header h = Header.of(in);
        if (h == null || h.elements() > MAX_INFLATED) {
            return null;
        }
        int t = r.nextInt(TYPE_CODES.length);
        byte[] data = Arrays.copyOfRange(in, h.dataStart(), in.length);
        byte[] resized = Arrays.copyOf(data, (int) h.elements() * TYPE_BYTES[t]);
        for (int i = data.length; i < resized.length; i++) {
            resized[i] = (byte) r.nextInt(256);
        }
        return new Mutation(idx(TYPE_CODES[t], h.dims(), resized), String.format("type 0x%02X -> 0x%02X, data resized to %d bytes",
                in[2] & 0xff, TYPE_CODES[t], resized.length));
    }

    /** The same elements under other dimensions (merged, split off a 1, flattened): a valid file of another rank. */
    static Mutation reshape(byte[] in, RandomGenerator r) {
        Header h = Header.of(in);
        if (h == null) {
            return null;
        }
        List<Integer> dims = new ArrayList<>(Arrays.stream(h.dims()).boxed().toList());
        String what;
        if (dims.size() >= 2 && r.nextBoolean()) {
            int i = r.nextInt(dims.size() - 1);
            long merged = (long) dims.get(i) * dims.get(i + 1);
            if (merged > Integer.MAX_VALUE) {
                return null;
            }
            dims.set(i, (int) merged);
            dims.remove(i + 1);
            what = "merged dimensions " + i + " and " + (i + 1);
        } else {
            dims.add(r.nextInt(dims.size() + 1), 1);
            what = "inserted a dimension of size 1";
        }
        byte[] data = Arrays.copyOfRange(in, h.dataStart(), in.length);
        return new Mutation(idx(in[2] & 0xff, dims.stream().mapToInt(Integer::intValue).toArray(), data),
                "dimensions " + Arrays.toString(h.dims()) + " -> " + dims + " (" + what + ")");
    }

    static Mutation dataLength(byte[] in, RandomGenerator r) {
        if (in.length < 4) {
            return null;
        }
        int n = 1 + r.nextInt(8);
        if (r.nextBoolean()) {
            byte[] extra = new byte[n];
            r.nextBytes(extra);
            return new Mutation(ByteMutators.concat(in, extra), n + " bytes appended after the data");
        }
        n = Math.min(n, in.length - 4);
        return new Mutation(Arrays.copyOf(in, in.length - n), n + " bytes cut from the end");
    }

    /** The header of a well-formed IDX file, or null. */
    private record Header(int[] dims, int dataStart, long elements) {
        static Header of(byte[] in) {
            if (in.length < 4 || in[0] != 0 || in[1] != 0) {
                return null;
            }
            int rank = in[3] & 0xff;
            if (rank == 0 || in.length < 4 + 4 * rank) {
                return null;
            }
            int[] dims = new int[rank];
            long elements = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = (int) ByteMutators.read(in, 4 + 4 * i, 4, false);
                if (dims[i] <= 0) {
                    return null;
                }
                elements = Math.min(elements * dims[i], Integer.MAX_VALUE);
            }
            return new Header(dims, 4 + 4 * rank, elements);
        }
    }

    // ---------------------------------------------------------------- gzip

    static boolean isGzip(byte[] in) {
        return in.length >= 2 && (in[0] & 0xff) == 0x1f && (in[1] & 0xff) == 0x8b;
    }

    static byte[] gzip(byte[] plain) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(plain);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: writing to memory", e);
        }
        return out.toByteArray();
    }

    /** The inflated bytes of a gzip file, or null when they are corrupt or larger than {@link #MAX_INFLATED}. */
    static byte[] gunzip(byte[] compressed) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(compressed))) {
            byte[] out = in.readNBytes(MAX_INFLATED + 1);
            return out.length > MAX_INFLATED ? null : out;
        } catch (IOException corrupt) {
            return null; // an earlier mutation broke the stream: the IDX mutation has nothing to edit
        }
    }

    /** {@code m} applied to the IDX bytes: directly for a plain file, between gunzip and gzip for a compressed one. */
    static Mutator insideGzip(Mutator m) {
        return (in, r) -> {
            if (!isGzip(in)) {
                return m.apply(in, r);
            }
            byte[] plain = gunzip(in);
            Mutation inner = plain == null ? null : m.apply(plain, r);
            return inner == null ? null : new Mutation(gzip(inner.bytes()), inner.description() + " (inside the gzip data, recompressed)");
        };
    }

    /** Header flags (RFC 1952 FTEXT/FHCRC/FEXTRA/FNAME/FCOMMENT) set, with or without the fields they announce. */
    static Mutation gzipFlags(byte[] in, RandomGenerator r) {
        if (!isGzip(in) || in.length < 10) {
            return null;
        }
        int flag = 1 << r.nextInt(8); // bits 5-7 are reserved
        byte[] out = in.clone();
        out[3] |= (byte) flag;
        String what = String.format("gzip flags 0x%02X -> 0x%02X", in[3] & 0xff, out[3] & 0xff);
        if (r.nextBoolean()) {
            byte[] field = switch (flag) {
                case 2 -> new byte[] {(byte) r.nextInt(256), (byte) r.nextInt(256)}; // header CRC16, not checked by all readers
                case 4 -> {
                    int xlen = r.nextInt(4) == 0 ? 0xFFFF : r.nextInt(16);
                    byte[] extra = new byte[2 + Math.min(xlen, 16)];
                    extra[0] = (byte) xlen;
                    extra[1] = (byte) (xlen >>> 8);
                    yield extra;
                }
                case 8, 16 -> "name.idx\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
                default -> new byte[0];
            };
            // FEXTRA comes first, then FNAME, FCOMMENT, FHCRC: inserting right after the 10 fixed bytes is exact for one flag.
            out = ByteMutators.insert(out, 10, field);
            what += " with a " + field.length + "-byte field after byte 10";
        }
        return new Mutation(out, what);
    }

    /** Method (byte 2) or the flags byte set to any value. */
    static Mutation gzipHeaderByte(byte[] in, RandomGenerator r) {
        if (!isGzip(in) || in.length < 10) {
            return null;
        }
        int at = 2 + r.nextInt(2);
        byte[] out = in.clone();
        out[at] = (byte) r.nextInt(256);
        return new Mutation(out, String.format("gzip header byte %d (%s) -> 0x%02X", at, at == 2 ? "method" : "flags", out[at] & 0xff));
    }

    /** The trailer's CRC-32 or length (the last 8 bytes) changed. */
    static Mutation gzipTrailer(byte[] in, RandomGenerator r) {
        if (!isGzip(in) || in.length < 18) {
            return null;
        }
        boolean crc = r.nextBoolean();
        int at = in.length - (crc ? 8 : 4);
        byte[] out = in.clone();
        long to = r.nextBoolean() ? ByteMutators.read(in, at, 4, true) ^ (1L << r.nextInt(32)) : InterestingValues.integer(r);
        ByteMutators.write(out, at, 4, to, true);
        return new Mutation(out, "gzip trailer " + (crc ? "CRC-32" : "length") + " -> " + (to & 0xffffffffL));
    }

    /** Something after the gzip data: garbage, a lone 0x1f, half a header, or a whole second member. */
    static Mutation gzipAppend(byte[] in, RandomGenerator r) {
        if (!isGzip(in)) {
            return null;
        }
        byte[] tail;
        String what;
        switch (r.nextInt(5)) {
            case 0 -> {
                tail = new byte[1 + r.nextInt(16)];
                r.nextBytes(tail);
                what = tail.length + " random bytes";
            }
            case 1 -> {
                tail = new byte[] {0x1f};
                what = "a lone 0x1f";
            }
            case 2 -> {
                tail = Arrays.copyOf(in, Math.min(in.length, 1 + r.nextInt(12)));
                what = "the first " + tail.length + " bytes of a member";
            }
            case 3 -> {
                tail = gzip(new byte[1 + r.nextInt(64)]);
                what = "a member holding zeros";
            }
            default -> {
                tail = in;
                what = "a copy of the whole file";
            }
        }
        return new Mutation(ByteMutators.concat(in, tail), "appended " + what);
    }

    private static byte[] zeroMember; // one gzip member of 1 MiB of zeros, about 1 KB; built once per JVM

    /**
     * A bomb: a header declaring 2.1 GB of images, then gzip members of 1 MiB of zeros each. Usually
     * a few, which must fail as truncated; one time in thirty 320 of them (a 330 KB file inflating to
     * 320 MiB), which a loader that grows its buffer with the data cannot hold in a 512 MB heap.
     */
    static Mutation gzipBomb(byte[] in, RandomGenerator r) {
        if (!isGzip(in)) {
            return null;
        }
        if (zeroMember == null) {
            zeroMember = gzip(new byte[1 << 20]);
        }
        int mebibytes = r.nextInt(30) == 0 ? 320 : 1 + r.nextInt(8);
        byte[][] parts = new byte[1 + mebibytes][];
        parts[0] = gzip(idx(0x08, new int[] {2_739_000, 28, 28}, new byte[0]));
        Arrays.fill(parts, 1, parts.length, zeroMember);
        return new Mutation(ByteMutators.concat(parts), "replaced by a bomb: a header declaring (2739000, 28, 28) bytes, then "
                + mebibytes + " gzip members of 1 MiB of zeros");
    }
}
