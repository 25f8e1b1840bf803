package dev.deepnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The header's JSON reader and writer on their own. */
class SafeTensorsJsonTest {

    @Test
    void readsEveryKindOfValueAndKeepsKeyOrder() throws Json.SyntaxException {
        Object v = Json.parse(" {\"z\": [1, -0, 2.5e-3, true, false, null, {}, []], \"a\": \"x\", \"m\": {\"k\": 12345678901234567890}} ");
        Map<?, ?> root = (Map<?, ?>) v;
        assertEquals(List.of("z", "a", "m"), List.copyOf(root.keySet()));
        List<?> z = (List<?>) root.get("z");
        assertEquals(new Json.Num("1", true), z.get(0));
        assertEquals(new Json.Num("-0", true), z.get(1));
        assertEquals(new Json.Num("2.5e-3", false), z.get(2));
        assertEquals(List.of(true, false, Json.NULL, Map.of(), List.of()), z.subList(3, 8));
        assertEquals(new Json.Num("12345678901234567890", true), ((Map<?, ?>) root.get("m")).get("k"), "numbers kept as written");
    }

    @Test
    void decodesEveryEscape() throws Json.SyntaxException {
        assertEquals("\" \\ / \b \f \n \r \t \u00e9 \ud83d\ude00 \u0000",
                Json.parse("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00E9 \\ud83d\\uDE00 \\u0000\""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "plain", "quote \" backslash \\ slash /", "controls \u0000\u0001\b\f\n\r\t\u001f\u007f",
        "caf\u00e9 \u4e2d\u6587 \ud83d\ude00", "__metadata__"})
    void writtenStringsReadBackUnchanged(String s) throws Json.SyntaxException {
        String quoted = Json.quote(s);
        assertEquals(s, Json.parse(quoted));
        for (char c : quoted.toCharArray()) {
            assertTrue(c >= 0x20, "control characters are escaped: " + quoted);
        }
    }

    @Test
    void escapesLikeSerdeJson() {
        assertEquals("\"a\\\"b\\\\c/d\\n\\u0001\u00e9\"", Json.quote("a\"b\\c/d\n\u0001\u00e9"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "{", "}", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\"}", "{1:2}", "tru", "nul", "+1", "1.", ".5",
        "1e", "-", "01", "0x10", "\"\\u00g0\"", "\"\\ude00\"", "\"\\ud800x\"", "\"abc", "\"\t\"", "Infinity", "{} {}",
        "{\"a\":1,\"a\":1}"})
    void refusesWhatRfc8259DoesNot(String text) {
        Json.SyntaxException e = assertThrows(Json.SyntaxException.class, () -> Json.parse(text));
        assertTrue(e.index >= 0 && e.index <= text.length(), e.index + " outside " + text);
    }

    @Test
    void findsUnpairedSurrogates() {
        assertEquals(-1, Json.unpairedSurrogate("ok \ud83d\ude00"));
        assertEquals(1, Json.unpairedSurrogate("a\ud83d"));
        assertEquals(0, Json.unpairedSurrogate("\ude00a"));
        assertEquals(1, Json.unpairedSurrogate("a\ud83d\ud83d\ude00"));
    }
}
