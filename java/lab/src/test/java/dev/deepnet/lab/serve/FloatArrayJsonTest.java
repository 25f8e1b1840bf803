package dev.deepnet.lab.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
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
