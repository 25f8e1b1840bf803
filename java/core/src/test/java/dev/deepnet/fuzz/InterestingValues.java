package dev.deepnet.fuzz;

import java.util.random.RandomGenerator;

/** Boundary values that break size arithmetic: zero, signs, the edges of 8/16/32/64-bit integers, huge lengths. */
final class InterestingValues {
    private InterestingValues() {}

    /** As longs; a field narrower than 64 bits gets the low bits. */
    static final long[] INTEGERS = {
        0, 1, -1, 2, 3, 7, 8, 16, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 20_000, 65_535, 1 << 20,
        1 << 24, 0x3FFF_FFFF, 0x4000_0000, 0x7FFF_FFFF, 0x8000_0000L, 0xFFFF_FFFFL, 1L << 32, 100_000_000, 100_000_001,
        1L << 40, 0x7FFF_FFFF_FFFF_FFFFL, 0x8000_0000_0000_0000L
    };

    /**
     * Numbers as JSON text: the integer boundaries above, sizes that are valid ints but need
     * hundreds of megabytes as a layer (30000000 x 18 floats), and what a strict parser or a
     * {@code Long.parseLong} / {@code (int)} cast gets wrong (too long, negative zero, fractions,
     * exponents, out of double range).
     */
    static final String[] JSON_NUMBERS = {
        "0", "-0", "1", "-1", "2", "3", "4", "7", "8", "255", "256", "1000", "65535", "65536", "100000", "1000000",
        "16777217", "30000000", "100000000",
        "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "123456789012345678901234567890", "0.5", "1.0", "-0.0", "1e2", "1E+2", "2e-1",
        "1e308", "1e309", "-1e309", "1e-400", "4.9e-324"
    };

    static long integer(RandomGenerator random) {
        return INTEGERS[random.nextInt(INTEGERS.length)];
    }

    static int int32(RandomGenerator random) {
        return (int) integer(random);
    }

    static String jsonNumber(RandomGenerator random) {
        return JSON_NUMBERS[random.nextInt(JSON_NUMBERS.length)];
    }
}
