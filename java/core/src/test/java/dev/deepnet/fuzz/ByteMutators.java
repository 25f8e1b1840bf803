package dev.deepnet.fuzz;

import dev.deepnet.fuzz.Mutator.Mutation;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Mutations that know nothing of the format: bit and byte flips, runs of 0x00 / 0xFF / random
 * bytes, truncation, chunks duplicated, inserted or deleted, and interesting integers written at
 * random offsets in either byte order. Also the byte-level helpers the format mutators share.
 */
final class ByteMutators {
    private ByteMutators() {}

    /** Longest run or chunk touched at once: small edits keep most of the structure, so the loader gets deeper. */
    static final int MAX_CHUNK = 64;

    static List<Mutator> all() {
        return List.of(ByteMutators::flipBit, ByteMutators::setByte, ByteMutators::setRun, ByteMutators::truncate,
                ByteMutators::duplicateChunk, ByteMutators::insertRandom, ByteMutators::deleteChunk,
                ByteMutators::interestingInteger);
    }

    static Mutation flipBit(byte[] in, RandomGenerator r) {
        if (in.length == 0) {
            return null;
        }
        int at = r.nextInt(in.length);
        int bit = r.nextInt(8);
        byte[] out = in.clone();
        out[at] ^= (byte) (1 << bit);
        return new Mutation(out, "flip bit " + bit + " of byte " + at);
    }

    static Mutation setByte(byte[] in, RandomGenerator r) {
        if (in.length == 0) {
            return null;
        }
        int at = r.nextInt(in.length);
        byte[] out = in.clone();
        out[at] = (byte) r.nextInt(256);
        return new Mutation(out, String.format("set byte %d to 0x%02X", at, out[at] & 0xff));
    }

    static Mutation setRun(byte[] in, RandomGenerator r) {
        if (in.length == 0) {
            return null;
        }
        int at = r.nextInt(in.length);
        int len = 1 + r.nextInt(Math.min(MAX_CHUNK, in.length - at));
        byte[] out = in.clone();
        String what;
        switch (r.nextInt(3)) {
            case 0 -> {
                Arrays.fill(out, at, at + len, (byte) 0);
                what = "0x00";
            }
            case 1 -> {
                Arrays.fill(out, at, at + len, (byte) 0xFF);
                what = "0xFF";
            }
            default -> {
                for (int i = at; i < at + len; i++) {
                    out[i] = (byte) r.nextInt(256);
                }
                what = "random bytes";
            }
        }
        return new Mutation(out, "set bytes [" + at + ", " + (at + len) + ") to " + what);
    }

    static Mutation truncate(byte[] in, RandomGenerator r) {
        if (in.length == 0) {
            return null;
        }
        // Half the time cut near the end (a download cut short), else anywhere, including to nothing.
        int keep = r.nextBoolean() ? Math.max(0, in.length - 1 - r.nextInt(Math.min(16, in.length))) : r.nextInt(in.length);
        return new Mutation(Arrays.copyOf(in, keep), "truncate to " + keep + " of " + in.length + " bytes");
    }

    static Mutation duplicateChunk(byte[] in, RandomGenerator r) {
        if (in.length == 0) {
            return null;
        }
        int from = r.nextInt(in.length);
        int len = 1 + r.nextInt(Math.min(MAX_CHUNK, in.length - from));
        int to = r.nextInt(in.length + 1);
        return new Mutation(insert(in, to, Arrays.copyOfRange(in, from, from + len)),
                "copy bytes [" + from + ", " + (from + len) + ") to offset " + to);
    }

    static Mutation insertRandom(byte[] in, RandomGenerator r) {
        int at = r.nextInt(in.length + 1);
        byte[] chunk = new byte[1 + r.nextInt(MAX_CHUNK)];
        r.nextBytes(chunk);
        return new Mutation(insert(in, at, chunk), "insert " + chunk.length + " random bytes at offset " + at);
    }

    static Mutation deleteChunk(byte[] in, RandomGenerator r) {
        if (in.length == 0) {
            return null;
        }
        int at = r.nextInt(in.length);
        int len = 1 + r.nextInt(Math.min(MAX_CHUNK, in.length - at));
        return new Mutation(replace(in, at, at + len, new byte[0]), "delete bytes [" + at + ", " + (at + len) + ")");
    }

    static Mutation interestingInteger(byte[] in, RandomGenerator r) {
        int width = 1 << r.nextInt(4); // 1, 2, 4 or 8 bytes
        if (in.length < width) {
            return null;
        }
        int at = r.nextInt(in.length - width + 1);
        long value = InterestingValues.integer(r);
        boolean little = r.nextBoolean();
        byte[] out = in.clone();
        write(out, at, width, value, little);
        return new Mutation(out, "write " + width + "-byte " + (little ? "little" : "big") + "-endian " + value
                + " at offset " + at);
    }

    // ---------------------------------------------------------------- helpers for the format mutators

    /** {@code in} with {@code chunk} inserted at {@code at}. */
    static byte[] insert(byte[] in, int at, byte[] chunk) {
        return replace(in, at, at, chunk);
    }

    /** {@code in} with bytes {@code [from, to)} replaced by {@code with}. */
    static byte[] replace(byte[] in, int from, int to, byte[] with) {
        byte[] out = new byte[in.length - (to - from) + with.length];
        System.arraycopy(in, 0, out, 0, from);
        System.arraycopy(with, 0, out, from, with.length);
        System.arraycopy(in, to, out, from + with.length, in.length - to);
        return out;
    }

    /** Writes the low {@code width} bytes of {@code value} at {@code at}. */
    static void write(byte[] b, int at, int width, long value, boolean littleEndian) {
        for (int i = 0; i < width; i++) {
            int shift = 8 * (littleEndian ? i : width - 1 - i);
            b[at + i] = (byte) (value >>> shift);
        }
    }

    /** Reads an unsigned integer of {@code width} bytes at {@code at}. */
    static long read(byte[] b, int at, int width, boolean littleEndian) {
        long v = 0;
        for (int i = 0; i < width; i++) {
            int shift = 8 * (littleEndian ? i : width - 1 - i);
            v |= (b[at + i] & 0xffL) << shift;
        }
        return v;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
