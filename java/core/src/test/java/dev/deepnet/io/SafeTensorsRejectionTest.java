package dev.deepnet.io;

import static dev.deepnet.io.HandBuilt.concat;
import static dev.deepnet.io.HandBuilt.f32;
import static dev.deepnet.io.HandBuilt.file;
import static dev.deepnet.io.HandBuilt.u64;
import static dev.deepnet.io.HandBuilt.zeros;
import static dev.deepnet.io.SafeTensorsTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every rule of the format, broken once: the file is refused with a message saying where and what. */
class SafeTensorsRejectionTest {

    @TempDir
    Path dir;

    /** A header entry for one tensor. */
    private static String t(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    private static final String A = t("a", "F32", "[2]", "[0,8]");

    private static Arguments bad(String what, byte[] bytes, String... fragments) {
        return Arguments.of(what, bytes, List.of(fragments));
    }

    private static Arguments bad(String what, String header, int dataBytes, String... fragments) {
        return bad(what, file(header, zeros(dataBytes)), fragments);
    }

    static Stream<Arguments> malformedFiles() {
        return Stream.of(
                // the 8-byte length
                bad("empty file", new byte[0], "file of 0 bytes is too short"),
                bad("header length larger than the file", concat(u64(9000), zeros(112)),
                        "header length 9000 exceeds file size 120"),
                bad("header length over 100 MB", concat(u64(100_000_001), "{}".getBytes(StandardCharsets.US_ASCII)),
                        "header length 100000001 (bytes 0-7) exceeds the limit of 100000000 bytes"),
                bad("header length 2^64 - 1", concat(u64(-1), zeros(8)), "header length 18446744073709551615"),
                bad("header length 0", concat(u64(0), zeros(8)), "header length is 0"),
                // UTF-8 and the first byte
                bad("invalid UTF-8", file(bytes('{', '"', 'a', 0xff, '"', ':', '1', '}'), zeros(0)),
                        "not valid UTF-8", "0xFF at byte 11"),
                bad("UTF-8-encoded surrogate", file(bytes('{', '"', 0xed, 0xa0, 0x80, '"', ':', '1', '}'), zeros(0)),
                        "not valid UTF-8", "at byte 10"),
                bad("overlong UTF-8", file(bytes('{', '"', 0xc0, 0xaf, '"', ':', '1', '}'), zeros(0)), "not valid UTF-8"),
                bad("JSON array", "[1, 2]", 0, "must be a JSON object starting with '{' at byte 8, found 0x5B '['"),
                bad("JSON string", "\"{}\"", 0, "starting with '{'", "0x22"),
                bad("JSON number", "123", 0, "starting with '{'"),
                bad("leading whitespace", " {}", 0, "starting with '{'", "0x20"),
                // JSON syntax
                bad("trailing comma", "{" + A + ",}", 8, "invalid header JSON at byte", "expected a string key"),
                bad("missing colon", "{\"a\" 1}", 0, "invalid header JSON at byte 13: expected ':' but found '1'"),
                bad("single quotes", "{'a':1}", 0, "invalid header JSON at byte 9", "expected a string key"),
                bad("unterminated object", "{\"a\":{\"dtype\":\"F32\"", 0, "invalid header JSON", "expected ',' or '}'"),
                bad("unterminated string", "{\"a", 0, "invalid header JSON at byte 9", "string is not terminated"),
                bad("text after the object", "{" + A + "} x", 8, "after the end of the JSON value"),
                bad("two objects", "{}{}", 0, "after the end of the JSON value"),
                bad("comment", "{/* c */}", 0, "invalid header JSON"),
                bad("leading zero", "{" + t("a", "F32", "[02]", "[0,8]") + "}", 8, "leading zero"),
                bad("NaN", "{\"__metadata__\":NaN}", 0, "invalid header JSON", "expected a value"),
                bad("raw newline in a string", "{\"a\nb\":1}", 0, "control character U+000A must be escaped"),
                bad("unknown escape", "{\"a\\x\":1}", 0, "invalid escape \\x"),
                bad("lone surrogate escape", "{\"\\ud800\":1}", 0, "high surrogate U+D800"),
                bad("short unicode escape", "{\"\\u12\":1}", 0, "4 hex digits"),
                bad("deep nesting", "{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}", 0, "nesting deeper than 64"),
                // duplicate keys
                bad("duplicate tensor", "{" + A + "," + A + "}", 8, "duplicate key \"a\""),
                bad("duplicate field", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                        "duplicate key \"dtype\""),
                bad("duplicate metadata key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "duplicate key \"k\""),
                bad("duplicate __metadata__", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate key \"__metadata__\""),
                // tensor entries
                bad("entry not an object", "{\"a\":[0,8]}", 8, "tensor 'a': expected an object", "found an array"),
                bad("missing dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 'a': missing \"dtype\""),
                bad("missing data_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "missing \"data_offsets\""),
                bad("unknown field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"offsets\":[0,8]}}", 8,
                        "tensor 'a': unknown field \"offsets\""),
                bad("dtype not a string", "{" + "\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}" + "}", 8,
                        "\"dtype\" must be a string, found number 32"),
                bad("unknown dtype", "{" + t("a", "Q8", "[2]", "[0,2]") + "}", 2, "tensor 'a': unknown dtype \"Q8\""),
                bad("dtype in lower case", "{" + t("a", "f32", "[2]", "[0,8]") + "}", 8, "unknown dtype \"f32\""),
                bad("shape not an array", "{" + t("a", "F32", "2", "[0,8]") + "}", 8, "\"shape\" must be an array"),
                bad("negative dimension", "{" + t("a", "F32", "[-2]", "[0,8]") + "}", 8,
                        "\"shape\"[0] must be a non-negative integer, found number -2"),
                bad("fractional dimension", "{" + t("a", "F32", "[2.0]", "[0,8]") + "}", 8, "found number 2.0"),
                // offsets
                bad("offsets past the buffer", "{" + A + "}", 4, "tensor 'a': data_offsets [0, 8] run past the end of the 4-byte data buffer"),
                bad("end before begin", "{" + t("a", "F32", "[1]", "[8,4]") + "}", 8, "data_offsets [8, 4] end before they begin"),
                bad("negative offset", "{" + t("a", "F32", "[1]", "[-4,0]") + "}", 8, "\"data_offsets\"[0] must be a non-negative"),
                bad("offset too large for a long", "{" + t("a", "F32", "[1]", "[0,99999999999999999999999]") + "}", 8,
                        "\"data_offsets\"[1] 99999999999999999999999 is too large"),
                bad("offset in exponent form", "{" + t("a", "F32", "[2]", "[0,8e0]") + "}", 8, "found number 8e0"),
                bad("three offsets", "{" + t("a", "F32", "[2]", "[0,4,8]") + "}", 8, "must be [begin, end], found 3"),
                bad("offsets as strings", "{" + t("a", "F32", "[2]", "[\"0\",\"8\"]") + "}", 8, "found string \"0\""),
                // sizes
                bad("length does not match shape", "{" + t("fc.weight", "F32", "[3,4]", "[0,40]") + "}", 40,
                        "tensor 'fc.weight': data_offsets [0, 40] hold 40 bytes but shape (3, 4) of F32 needs 48"),
                bad("length does not match F16", "{" + t("h", "F16", "[3]", "[0,4]") + "}", 4, "hold 4 bytes but shape (3) of F16 needs 6"),
                bad("scalar with two elements' bytes", "{" + t("s", "F32", "[]", "[0,8]") + "}", 8, "shape () of F32 needs 4"),
                bad("sub-byte tensor of partial bytes", "{" + t("q", "F4", "[3]", "[0,2]") + "}", 2, "12 bits, not a whole number of bytes"),
                bad("element count overflows", "{" + t("o", "F32", "[4294967296,4294967296,4]", "[0,8]") + "}", 8,
                        "more bytes than a long can count"),
                // coverage of the data buffer
                bad("hole between tensors", "{" + A + "," + t("b", "F32", "[2]", "[12,20]") + "}", 20,
                        "data buffer bytes [8, 12)", "hole before tensor 'b'"),
                bad("first tensor not at 0", "{" + t("a", "F32", "[1]", "[4,8]") + "}", 8, "data buffer bytes [0, 4)"),
                bad("bytes after the last tensor", "{" + A + "}", 12, "data buffer bytes [8, 12)", "after the last tensor"),
                bad("bytes but no tensors", "{}", 8, "data buffer bytes [0, 8)"),
                bad("overlapping tensors", "{" + A + "," + t("b", "F32", "[2]", "[4,12]") + "}", 12,
                        "tensor 'b' data_offsets [4, 12] overlap tensor 'a' data_offsets [0, 8]"),
                bad("same bytes twice", "{" + A + "," + t("b", "F32", "[2]", "[0,8]") + "}", 8, "overlap"),
                bad("empty tensor inside another", "{" + A + "," + t("e", "F32", "[0]", "[4,4]") + "}", 8,
                        "tensor 'e' data_offsets [4, 4] overlap tensor 'a'"),
                // metadata
                bad("metadata not an object", "{\"__metadata__\":\"pt\"}", 0, "__metadata__ must be an object of strings, found string \"pt\""),
                bad("metadata value not a string", "{\"__metadata__\":{\"epoch\":3}}", 0,
                        "__metadata__: value of \"epoch\" must be a string, found number 3"),
                bad("metadata value an object", "{\"__metadata__\":{\"k\":{}}}", 0, "found an object"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedFiles")
    void refusesMalformedFiles(String what, byte[] bytes, List<String> fragments) throws IOException {
        Path path = dir.resolve("bad.safetensors");
        Files.write(path, bytes);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(path).close(), what);
        assertTrue(e.getMessage().startsWith(path + ": "), e.getMessage());
        assertMessage(e, fragments.toArray(String[]::new));
    }

    /** Cuts a valid file at many points: each prefix is refused, and the message says which part is missing. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 8, 9, 50, -1, 0x10000, 0x10001, 0x10004, 0x10010, -2})
    void refusesTruncatedFiles(int cut) throws IOException {
        Path whole = dir.resolve("whole.safetensors");
        try (Tensor a = Tensor.of(Shape.of(2, 2), 1, 2, 3, 4); Tensor b = Tensor.of(Shape.of(3), 5, 6, 7)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("a", a);
            tensors.put("b", b);
            SafeTensors.write(whole, tensors, Map.of("format", "pt"));
        }
        byte[] bytes = Files.readAllBytes(whole);
        int headerEnd = 8 + 144; // 8-byte length + header (143 bytes of JSON + 1 space)
        assertEquals(headerEnd + 28, bytes.length);
        // cuts: absolute below 0x10000; -1 and -2 mean "header end minus 1 / file end minus 1"; 0x100xx mean header end + xx
        int at = cut == -1 ? headerEnd - 1 : cut == -2 ? bytes.length - 1 : cut >= 0x10000 ? headerEnd + (cut - 0x10000) : cut;
        Path path = dir.resolve("cut.safetensors");
        Files.write(path, Arrays.copyOf(bytes, at));

        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(path).close());
        assertTrue(e.getMessage().startsWith(path.toString()), e.getMessage());
        if (at < 8) {
            assertMessage(e, "file of " + at + " bytes is too short");
        } else if (at < headerEnd) {
            assertMessage(e, "header length 144 exceeds file size " + at);
        } else {
            assertMessage(e, "run past the end of the " + (at - headerEnd) + "-byte data buffer");
        }
    }

    @Test
    void acceptsWhatTheSpecAllows() throws IOException {
        Path path = dir.resolve("ok.safetensors");
        // null metadata (the reference reads it as none), tabs and newlines as JSON whitespace, no padding
        Files.write(path, file("{\t\"__metadata__\" : null ,\n\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}\r\n}",
                f32(1, 2)));
        try (SafeTensorsFile f = SafeTensors.read(path)) {
            assertEquals(Map.of(), f.metadata());
            assertEquals(List.of("a"), f.names());
        }
        Files.write(path, file("{}", new byte[0]));
        try (SafeTensorsFile f = SafeTensors.read(path)) {
            assertTrue(f.names().isEmpty());
        }
    }

    @Test
    void namesTheTensorAndDtypeItCannotLoad() throws IOException {
        Path path = dir.resolve("bf16.safetensors");
        Files.write(path, file("{" + t("encoder.weight", "BF16", "[2,2]", "[0,8]") + "," + t("step", "I64", "[]", "[8,16]")
                + "," + t("ok", "F32", "[1]", "[16,20]") + "}", zeros(20)));
        try (SafeTensorsFile f = SafeTensors.read(path); Tensor dest = Tensor.allocate(Shape.of(2, 2)).fill(3f)) {
            assertEquals(Shape.of(2, 2), f.shape("encoder.weight"));
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> f.copyTo("encoder.weight", dest));
            assertMessage(e, path.toString(), "tensor 'encoder.weight' has dtype BF16", "only F32");
            assertEquals(3f, dest.get(1, 1), "destination untouched");
            assertMessage(assertThrows(SafeTensorsException.class, () -> f.load("step")), "'step' has dtype I64");
            try (Tensor ok = f.load("ok")) {
                assertEquals(0f, ok.get(0));
            }
        }
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
