package dev.deepnet.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded damage to a valid file, the kinds a disk, a network or an attacker deals: bytes flipped
 * or set to boundary values, the file cut short, bytes inserted, deleted or repeated. Each
 * mutation says what it did, so a failure can be reproduced from its seed.
 */
final class ByteMutations {

    /** A damaged copy of a file and what was done to it, e.g. "flip byte 17 ^ 0x40, cut to 93 bytes". */
    record Mutation(String description, byte[] bytes) {}

    private static final int[] BOUNDARY_VALUES = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};

    private ByteMutations() {}

    /** One to three mutations of {@code original}, chosen by {@code random}. */
    static Mutation mutate(byte[] original, Random random) {
        byte[] b = original.clone();
        List<String> done = new ArrayList<>();
        int count = 1 + random.nextInt(3);
        for (int m = 0; m < count && b.length > 0; m++) {
            int at = random.nextInt(b.length);
            switch (random.nextInt(6)) {
                case 0 -> {
                    int mask = 1 + random.nextInt(255);
                    b[at] ^= (byte) mask;
                    done.add(String.format("flip byte %d ^ 0x%02x", at, mask));
                }
                case 1 -> {
                    int v = BOUNDARY_VALUES[random.nextInt(BOUNDARY_VALUES.length)];
                    b[at] = (byte) v;
                    done.add(String.format("set byte %d = 0x%02x", at, v));
                }
                case 2 -> {
                    b = Arrays.copyOf(b, at);
                    done.add("cut to " + at + " bytes");
                }
                case 3 -> {
                    byte[] inserted = new byte[1 + random.nextInt(8)];
                    random.nextBytes(inserted);
                    b = splice(b, at, 0, inserted);
                    done.add("insert " + Arrays.toString(inserted) + " at " + at);
                }
                case 4 -> {
                    int n = 1 + random.nextInt(Math.min(16, b.length - at));
                    b = splice(b, at, n, new byte[0]);
                    done.add("delete " + n + " bytes at " + at);
                }
                default -> {
                    int n = 1 + random.nextInt(Math.min(16, b.length - at));
                    b = splice(b, at, 0, Arrays.copyOfRange(b, at, at + n));
                    done.add("repeat " + n + " bytes at " + at);
                }
            }
        }
        return new Mutation(String.join(", ", done), b);
    }

    /** {@code b} with {@code removed} bytes at {@code at} replaced by {@code inserted}. */
    private static byte[] splice(byte[] b, int at, int removed, byte[] inserted) {
        byte[] out = new byte[b.length - removed + inserted.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(inserted, 0, out, at, inserted.length);
        System.arraycopy(b, at + removed, out, at + inserted.length, b.length - at - removed);
        return out;
    }
}
