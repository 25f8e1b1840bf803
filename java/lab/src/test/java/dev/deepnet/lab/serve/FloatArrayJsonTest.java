package dev.deepnet.lab.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class FloatArrayJsonTest {

    static float[] parse(String s) throws FloatArrayJson.NotAnArray {
        return FloatArrayJson.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsEveryNumberFormJsonAllows() throws Exception {
        assertArrayEquals(new float[] {0, -0f, 1.5f, -2e-3f, 3E2f, 4e+1f, 0.1f, 123456789f}, parse(" [0,-0, 1.5 ,-2e-3,3E2,4e+1,\n0.1,\t123456789 ] \r\n"));
        assertArrayEquals(new float[0], parse("[ ]"));
        float[] many = parse("[" + "1,".repeat(5000) + "1]");
        assertTrue(many.length == 5001 && many[5000] == 1f);
    }

    /** The fast path and Float.parseFloat agree to the bit on what clients print and on awkward decimals. */
    @Test
    void everyNumberIsTheFloatParseFloatGives() throws Exception {
        java.util.SplittableRandom r = new java.util.SplittableRandom(14);
        List<String> texts = new java.util.ArrayList<>(List.of("0", "-0", "1", "0.1", "16777217", "16777216.5", "3.4028235e38", "3.4028236e38",
                "1.4e-45", "7e-46", "0.7e-45", "1e-50", "9007199254740993", "123456789012345678901234567890", "0.00000000000000000000001",
                "1.00000005960464477539062500001", "1.000000059604644775390625", "8388608.5", "8388609.5", "33554433", "1e22", "1e23", "4.9e-324"));
        for (int k = 0; k < 20000; k++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (Float.isFinite(f)) {
                texts.add(Float.toString(f));
            }
            texts.add(Double.toString(r.nextDouble() * Math.pow(10, r.nextInt(-30, 30)))); // 17 digits: past a float's
            texts.add(Float.toString((float) r.nextDouble())); // what the load test and clients send
            long m = r.nextLong(1, 1L << 26); // near halfway cases: odd multiples of half a float ulp
            texts.add(Long.toString(m) + "e" + r.nextInt(-12, 12));
            texts.add((m * 2 + 1) + ".5");
        }
        for (String t : texts) {
            float expected = Float.parseFloat(t);
            if (Float.isInfinite(expected)) {
                continue;
            }
            float[] got = parse("[" + t.replace("E", "e") + "]");
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got[0]), t + ": expected " + expected + ", got " + got[0]);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''|the body is empty",
            "'{}'|expected a JSON array of numbers, found '{' at byte 0",
            "'[01]'|expected ',' or ']' after number 1, found '1' at byte 2",
            "'[1.]'|has no digits after its '.'",
            "'[1e]'|has no digits in its exponent",
            "'[-]'|expected a number, found '-' at byte 1",
            "'[+1]'|expected a number, found '+'",
            "'[.5]'|expected a number, found '.'",
            "'[1,]'|expected a number, found ']' at byte 3",
            "'[1 2]'|expected ',' or ']' after number 1, found '2'",
            "'[1]x'|unexpected 'x' at byte 3 after the array",
            "'[[1]]'|expected a number, found '['",
            "'[\"1\"]'|expected a number, found '\"'",
            "'[1e39]'|number 1 at byte 1 is out of the float range",
            "'[Infinity]'|expected a number, found 'I'",
            "'[1'|expected ',' or ']' after number 1, found the end of the body"})
    void refusesWhatRfc8259DoesNotAllowSayingWhere(String body, String reason) {
        FloatArrayJson.NotAnArray e = assertThrows(FloatArrayJson.NotAnArray.class, () -> parse(body));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void nonAsciiBytesAreNamedByValue() {
        FloatArrayJson.NotAnArray e = assertThrows(FloatArrayJson.NotAnArray.class, () -> FloatArrayJson.parse(new byte[] {'[', (byte) 0xc3}));
        assertTrue(e.getMessage().contains("byte 0xc3 at byte 1"), e.getMessage());
    }
}
