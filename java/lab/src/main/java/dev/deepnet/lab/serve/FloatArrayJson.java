package dev.deepnet.lab.serve;

import java.util.Arrays;

/**
 * Reads a request body that is one JSON array of numbers ({@code [0.0, 0.5, 1e-3]}) straight from
 * its bytes into floats: strict RFC 8259 (no {@code NaN}, no trailing comma, no leading zeros,
 * nothing after the array), without building a value per element as a general JSON reader would.
 */
final class FloatArrayJson {
    private FloatArrayJson() {}

    /** Why a body is not an array of numbers; the message says where, for the client. */
    static final class NotAnArray extends Exception {
        NotAnArray(String message) {
            super(message);
        }
    }

    /** The numbers of the array in {@code body}, each rounded to the nearest float. */
    static float[] parse(byte[] body) throws NotAnArray {
        int i = skipWhitespace(body, 0);
        if (i == body.length || body[i] != '[') {
            throw new NotAnArray(i == body.length ? "the body is empty: expected a JSON array of numbers"
                    : "expected a JSON array of numbers, found " + describe(body, i) + " at byte " + i);
        }
        i = skipWhitespace(body, i + 1);
        float[] out = new float[Math.min(1024, body.length / 2 + 1)];
        int n = 0;
        if (i < body.length && body[i] == ']') {
            i++;
        } else {
            while (true) {
                int start = i;
                i = number(body, i);
                float v = value(body, start, i);
                if (Float.isInfinite(v)) {
                    throw new NotAnArray("number " + (n + 1) + " at byte " + start + " is out of the float range");
                }
                if (n == out.length) {
                    out = Arrays.copyOf(out, out.length * 2);
                }
                out[n++] = v;
                i = skipWhitespace(body, i);
                if (i < body.length && body[i] == ',') {
                    i = skipWhitespace(body, i + 1);
                } else if (i < body.length && body[i] == ']') {
                    i++;
                    break;
                } else {
                    throw new NotAnArray("expected ',' or ']' after number " + n + ", found " + describe(body, i) + " at byte " + i);
                }
            }
        }
        i = skipWhitespace(body, i);
        if (i != body.length) {
            throw new NotAnArray("unexpected " + describe(body, i) + " at byte " + i + " after the array");
        }
        return Arrays.copyOf(out, n);
    }

    /** The end of the JSON number starting at {@code i}: {@code -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?}. */
    private static int number(byte[] b, int i) throws NotAnArray {
        int start = i;
        if (i < b.length && b[i] == '-') {
            i++;
        }
        if (i < b.length && b[i] == '0') {
            i++;
        } else if (i < b.length && b[i] >= '1' && b[i] <= '9') {
            i = digits(b, i);
        } else {
            throw new NotAnArray("expected a number, found " + describe(b, start) + " at byte " + start);
        }
        if (i < b.length && b[i] == '.') {
            int d = digits(b, i + 1);
            if (d == i + 1) {
                throw new NotAnArray("a number at byte " + start + " has no digits after its '.'");
            }
            i = d;
        }
        if (i < b.length && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < b.length && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            int d = digits(b, i);
            if (d == i) {
                throw new NotAnArray("a number at byte " + start + " has no digits in its exponent");
            }
            i = d;
        }
        return i;
    }

    private static final double[] POWERS_OF_TEN = new double[23]; // 1e0 .. 1e22: every one exact in a double

    static {
        POWERS_OF_TEN[0] = 1;
        for (int k = 1; k < POWERS_OF_TEN.length; k++) {
            POWERS_OF_TEN[k] = POWERS_OF_TEN[k - 1] * 10;
        }
    }

    /**
     * The float nearest the valid JSON number in {@code b[start, end)}, as {@link Float#parseFloat}
     * gives it, but without making a String for the common case (digits that make at most 2^53,
     * a decimal exponent within 22: what clients print). Then the digits m and 10^|e| are exact
     * doubles, so m * 10^e (or m / 10^-e) is the correctly rounded double d (Clinger's fast path),
     * and (float) d is the correctly rounded float unless d lies exactly halfway between two floats
     * (only there can rounding twice differ from rounding once): that case, and every other, goes to
     * Float.parseFloat.
     */
    static float value(byte[] b, int start, int end) {
        int i = start;
        boolean negative = b[i] == '-';
        if (negative) {
            i++;
        }
        long m = 0;
        int significant = 0;
        int exponent = 0;
        boolean exact = true;
        for (; i < end && b[i] != '.' && b[i] != 'e' && b[i] != 'E'; i++) { // the integer part
            int d = b[i] - '0';
            if (significant < 18) {
                m = m * 10 + d;
                significant += m == 0 ? 0 : 1;
            } else {
                exact = false;
            }
        }
        if (i < end && b[i] == '.') {
            for (i++; i < end && b[i] != 'e' && b[i] != 'E'; i++) { // the fraction
                int d = b[i] - '0';
                if (significant < 18) {
                    m = m * 10 + d;
                    significant += m == 0 ? 0 : 1;
                    exponent--;
                } else {
                    exact = false;
                }
            }
        }
        if (i < end) { // the exponent; validated, so 'e' or 'E', a sign maybe, digits
            i++;
            boolean minus = b[i] == '-';
            if (b[i] == '-' || b[i] == '+') {
                i++;
            }
            int e = 0;
            for (; i < end; i++) {
                e = Math.min(e * 10 + (b[i] - '0'), 100_000); // far past any float: the slow path says so
            }
            exponent += minus ? -e : e;
        }
        if (exact && m <= 1L << 53 && Math.abs(exponent) < POWERS_OF_TEN.length) {
            double d = exponent >= 0 ? m * POWERS_OF_TEN[exponent] : m / POWERS_OF_TEN[-exponent];
            float f = (float) d;
            if ((double) f == d || ((double) f + (double) (d > f ? Math.nextUp(f) : Math.nextDown(f))) / 2 != d) {
                return negative ? -f : f;
            }
        }
        return Float.parseFloat(new String(b, start, end - start, java.nio.charset.StandardCharsets.US_ASCII));
    }

    private static int digits(byte[] b, int i) {
        while (i < b.length && b[i] >= '0' && b[i] <= '9') {
            i++;
        }
        return i;
    }

    private static int skipWhitespace(byte[] b, int i) {
        while (i < b.length && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
            i++;
        }
        return i;
    }

    /** A found byte for a message: {@code 'x'}, or the end. */
    private static String describe(byte[] b, int i) {
        if (i >= b.length) {
            return "the end of the body";
        }
        int c = b[i] & 0xff;
        return c >= 0x20 && c < 0x7f ? "'" + (char) c + "'" : String.format("byte 0x%02x", c);
    }
}
