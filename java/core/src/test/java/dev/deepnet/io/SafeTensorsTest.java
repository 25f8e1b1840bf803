package dev.deepnet.io;

import static dev.deepnet.io.HandBuilt.concat;
import static dev.deepnet.io.HandBuilt.f32;
import static dev.deepnet.io.HandBuilt.file;
import static dev.deepnet.io.HandBuilt.zeros;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafeTensorsTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsSeveralTensorsAndMetadata() throws IOException {
        Path path = dir.resolve("model.safetensors");
        float[] odd = {Float.NaN, -0f, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -3.3e38f, 1f / 3};
        try (Tensor conv = Tensor.allocate(Shape.of(4, 3, 5, 5));
                Tensor bias = Tensor.of(Shape.of(4), 0.5f, -1f, 2f, 1e-7f);
                Tensor special = Tensor.of(Shape.of(2, 3), odd);
                Tensor one = Tensor.of(Shape.of(1), 42f)) {
            for (long i = 0; i < conv.size(); i++) {
                conv.setFlat(i, (float) Math.sin(i));
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("features.0.weight", conv);
            tensors.put("features.0.bias", bias);
            tensors.put("odd \"name\" \u00e9\u4e2d\ud83d\ude00\n", special);
            tensors.put("one", one);
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "pt");
            metadata.put("note", "tab\there, \"quotes\", back\\slash, \u0001, caf\u00e9");
            SafeTensors.write(path, tensors, metadata);

            try (SafeTensorsFile f = SafeTensors.read(path)) {
                assertEquals(List.copyOf(tensors.keySet()), f.names(), "names in the order written");
                assertEquals(metadata, f.metadata());
                assertEquals(List.copyOf(metadata.keySet()), List.copyOf(f.metadata().keySet()));
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    assertEquals("F32", f.dtype(e.getKey()));
                    assertEquals(e.getValue().shape(), f.shape(e.getKey()));
                    assertArrayEquals(e.getValue().shape().dims(), f.dims(e.getKey()));
                    try (Tensor loaded = f.load(e.getKey())) {
                        assertArrayEquals(bits(e.getValue().toArray()), bits(loaded.toArray()), e.getKey());
                    }
                }
                try (Tensor into = Tensor.allocate(Shape.of(4))) {
                    f.copyTo("features.0.bias", into);
                    assertArrayEquals(bias.toArray(), into.toArray());
                }
            }
        }
    }

    @Test
    void writtenFileIsExactlyWhatTheSpecSays() throws IOException {
        Path path = dir.resolve("w.safetensors");
        try (Tensor w = Tensor.of(Shape.of(2, 2), 1f, 2f, -3f, 0.25f); Tensor b = Tensor.of(Shape.of(3), 0.5f, -1f, 7f)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("w", w);
            tensors.put("b", b);
            SafeTensors.write(path, tensors, Map.of("format", "pt"));
        }
        byte[] bytes = Files.readAllBytes(path);

        long n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | (bytes[i] & 0xff);
        }
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[16,28]}}";
        assertEquals(143, json.length());
        assertEquals(144, n, "header padded to the next multiple of 8");
        assertEquals(8 + 144 + 28, bytes.length);
        assertEquals(json, new String(bytes, 8, json.length(), StandardCharsets.UTF_8));
        assertEquals(" ", new String(bytes, 8 + json.length(), 1, StandardCharsets.US_ASCII), "padding is spaces");
        int d = 8 + 144;
        assertEquals(0, d % 8, "data 8-byte aligned");
        byte[] expectedData = {
            0x00, 0x00, (byte) 0x80, 0x3f, // 1.0
            0x00, 0x00, 0x00, 0x40, // 2.0
            0x00, 0x00, 0x40, (byte) 0xc0, // -3.0
            0x00, 0x00, (byte) 0x80, 0x3e, // 0.25
            0x00, 0x00, 0x00, 0x3f, // 0.5
            0x00, 0x00, (byte) 0x80, (byte) 0xbf, // -1.0
            0x00, 0x00, (byte) 0xe0, 0x40, // 7.0
        };
        assertArrayEquals(expectedData, java.util.Arrays.copyOfRange(bytes, d, bytes.length));
    }

    /** Headers and padding as the reference implementation writes them (its serializer's test vectors). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "attn.0 | 1,2,3   | `{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}` | 64",
        "attn0  | 1,1,2,3 | `{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ` | 72",
    })
    void matchesTheReferenceSerializer(String name, String dims, String header, int length) throws IOException {
        Path path = dir.resolve(name + ".safetensors");
        Shape shape = Shape.of(Stream.of(dims.split(",")).mapToLong(Long::parseLong).toArray());
        try (Tensor t = Tensor.of(shape, 0, 1, 2, 3, 4, 5)) {
            SafeTensors.write(path, Map.of(name, t));
        }
        assertArrayEquals(file(header, f32(0, 1, 2, 3, 4, 5)), Files.readAllBytes(path));
        assertEquals(length, header.length());
    }

    @Test
    void writesEmptyFilesLikeTheReferenceSerializer() throws IOException {
        Path empty = dir.resolve("empty.safetensors");
        SafeTensors.write(empty, Map.of());
        assertArrayEquals(new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '}, Files.readAllBytes(empty));
        Path meta = dir.resolve("meta.safetensors");
        SafeTensors.write(meta, Map.of(), Map.of("framework", "pt"));
        assertArrayEquals(file("{\"__metadata__\":{\"framework\":\"pt\"}}     ", new byte[0]), Files.readAllBytes(meta));
        try (SafeTensorsFile f = SafeTensors.read(meta)) {
            assertTrue(f.names().isEmpty());
            assertEquals(Map.of("framework", "pt"), f.metadata());
        }
    }

    @Test
    void readsAFileBuiltByHandFromTheSpec() throws IOException {
        // Header lists the vector first although its data comes second; whitespace and escapes as
        // any JSON writer may produce them; padding that does not reach a multiple of 8.
        String header = "{\n"
                + "  \"__metadata__\": {\"format\": \"pt\", \"source\": \"hand\\u0020built\\/spec\"},\n"
                + "  \"vec\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [16, 28]},\n"
                + "  \"m\\u00e9trique\": {\"data_offsets\": [0, 16], \"shape\": [2, 2], \"dtype\": \"F32\"}\n"
                + "}   ";
        byte[] data = concat(f32(1f, 2f, 3f, 4f), f32(-0.5f, 1e10f, Float.NEGATIVE_INFINITY));
        Path path = dir.resolve("hand.safetensors");
        Files.write(path, file(header, data));

        try (SafeTensorsFile f = SafeTensors.read(path)) {
            assertEquals(List.of("vec", "m\u00e9trique"), f.names());
            assertEquals(Map.of("format", "pt", "source", "hand built/spec"), f.metadata());
            assertEquals(Shape.of(2, 2), f.shape("m\u00e9trique"));
            assertEquals(Shape.of(3), f.shape("vec"));
            try (Tensor m = f.load("m\u00e9trique"); Tensor v = Tensor.allocate(Shape.of(3))) {
                assertEquals(2f, m.get(0, 1));
                assertEquals(3f, m.get(1, 0), "row-major");
                assertArrayEquals(new float[] {1, 2, 3, 4}, m.toArray());
                f.copyTo("vec", v);
                assertArrayEquals(new float[] {-0.5f, 1e10f, Float.NEGATIVE_INFINITY}, v.toArray());
            }
        }
    }

    @Test
    void listsScalarsEmptyTensorsAndOtherDtypesButLoadsOnlyF32() throws IOException {
        String header = "{"
                + "\"flag\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[1,9]},"
                + "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[9,13]},"
                + "\"none\":{\"dtype\":\"F32\",\"shape\":[2,0],\"data_offsets\":[13,13]},"
                + "\"half\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[13,17]},"
                + "\"steps\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[17,25]},"
                + "\"nibbles\":{\"dtype\":\"F4\",\"shape\":[2,3],\"data_offsets\":[25,28]}}";
        byte[] data = concat(new byte[] {1}, f32(6f, -7f), f32(9f), zeros(4), HandBuilt.u64(1000), zeros(3));
        Path path = dir.resolve("mixed.safetensors");
        Files.write(path, file(header, data));

        try (SafeTensorsFile f = SafeTensors.read(path)) {
            assertEquals(List.of("flag", "x", "scalar", "none", "half", "steps", "nibbles"), f.names());
            try (Tensor x = f.load("x")) {
                assertArrayEquals(new float[] {6f, -7f}, x.toArray(), "F32 at an odd offset");
            }
            assertArrayEquals(new long[0], f.dims("scalar"));
            assertArrayEquals(new long[] {2, 0}, f.dims("none"));
            assertEquals("BF16", f.dtype("half"));
            assertEquals("I64", f.dtype("steps"));
            assertMessage(assertThrows(SafeTensorsException.class, () -> f.shape("scalar")), "'scalar'", "scalar");
            assertMessage(assertThrows(SafeTensorsException.class, () -> f.shape("none")), "'none'", "(2, 0)");
            assertMessage(assertThrows(SafeTensorsException.class, () -> f.load("half")), "'half'", "BF16", "only F32");
            try (Tensor t = Tensor.allocate(Shape.of(1))) {
                assertMessage(assertThrows(SafeTensorsException.class, () -> f.copyTo("steps", t)), "'steps'", "I64");
                assertMessage(assertThrows(SafeTensorsException.class, () -> f.copyTo("flag", t)), "'flag'", "BOOL");
                assertMessage(assertThrows(SafeTensorsException.class, () -> f.copyTo("scalar", t)), "'scalar'", "()", "(1)");
            }
        }
    }

    @Test
    void copyToRefusesAnotherShapeAndChangesNothing() throws IOException {
        Path path = dir.resolve("fc.safetensors");
        try (Tensor w = Tensor.of(Shape.of(3, 4), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)) {
            SafeTensors.write(path, Map.of("fc.weight", w));
        }
        try (SafeTensorsFile f = SafeTensors.read(path); Tensor wrong = Tensor.allocate(Shape.of(4, 3)).fill(7f)) {
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> f.copyTo("fc.weight", wrong));
            assertMessage(e, path.toString(), "'fc.weight'", "(3, 4)", "(4, 3)");
            assertEquals(path, e.file());
            for (float v : wrong.toArray()) {
                assertEquals(7f, v);
            }
            assertMessage(assertThrows(SafeTensorsException.class, () -> f.load("fc.wieght")), "'fc.wieght'", "'fc.weight'");
            assertFalse(f.contains("fc.bias"));
        }
    }

    @Test
    void aClosedFileRefusesToCopy() throws IOException {
        Path path = dir.resolve("c.safetensors");
        try (Tensor t = Tensor.of(Shape.of(2), 1, 2)) {
            SafeTensors.write(path, Map.of("t", t));
        }
        SafeTensorsFile f = SafeTensors.read(path);
        f.close();
        assertEquals(Shape.of(2), f.shape("t"), "the header stays readable");
        assertThrows(IllegalStateException.class, () -> f.load("t"));
    }

    @Test
    void tensorsLargerThanTheStagingBufferRoundTrip() throws IOException {
        Path path = dir.resolve("big.safetensors");
        int n = SafeTensorsFile.STAGING_BYTES / 4 * 2 + 3; // crosses two chunk boundaries
        try (Tensor small = Tensor.of(Shape.of(1), 5f); Tensor big = Tensor.allocate(Shape.of(n))) {
            for (int i = 0; i < n; i++) {
                big.setFlat(i, i * 0.5f);
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("small", small); // puts "big" at a data offset that is not 8-aligned
            tensors.put("big", big);
            SafeTensors.write(path, tensors);
            try (SafeTensorsFile f = SafeTensors.read(path); Tensor back = f.load("big")) {
                assertArrayEquals(big.toArray(), back.toArray());
            }
        }
        assertEquals(4L * (n + 1), Files.size(path) - 8 - ByteBuffer.wrap(Files.readAllBytes(path), 0, 8)
                .order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    @Test
    void aWriteThatFailsMidwayLeavesThePreviousFile() throws IOException {
        Path path = dir.resolve("model.safetensors");
        try (Tensor a = Tensor.of(Shape.of(2), 1, 2)) {
            SafeTensors.write(path, Map.of("a", a));
        }
        byte[] before = Files.readAllBytes(path);

        Tensor closed = Tensor.of(Shape.of(1000), new float[1000]);
        closed.close();
        try (Tensor a = Tensor.of(Shape.of(3), 3, 4, 5)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("a", a); // written before the failure
            tensors.put("b", closed);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> SafeTensors.write(path, tensors));
            assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("closed"), e.getMessage());

            assertArrayEquals(before, Files.readAllBytes(path), "the previous file is untouched");
            Path fresh = dir.resolve("fresh.safetensors");
            assertThrows(IllegalStateException.class, () -> SafeTensors.write(fresh, tensors));
            assertFalse(Files.exists(fresh), "no partial file where none was");
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(path), files.toList(), "no temporary files left behind");
        }
    }

    @Test
    void writeRefusesNamesTheFormatCannotHold() throws IOException {
        Path path = dir.resolve("bad.safetensors");
        try (Tensor t = Tensor.of(Shape.of(1), 1)) {
            IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
                    () -> SafeTensors.write(path, Map.of("__metadata__", t)));
            assertTrue(reserved.getMessage().contains("__metadata__"), reserved.getMessage());
            IllegalArgumentException surrogate = assertThrows(IllegalArgumentException.class,
                    () -> SafeTensors.write(path, Map.of("bad\ud800", t)));
            assertTrue(surrogate.getMessage().contains("U+D800"), surrogate.getMessage());
            assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(path, Map.of("t", t), Map.of("k", "\udc00")));
        }
        assertFalse(Files.exists(path));
    }

    @Test
    void overwritesAnExistingFileWhole() throws IOException {
        Path path = dir.resolve("m.safetensors");
        try (Tensor big = Tensor.allocate(Shape.of(100)); Tensor small = Tensor.of(Shape.of(1), 9)) {
            SafeTensors.write(path, Map.of("big", big));
            SafeTensors.write(path, Map.of("small", small));
        }
        try (SafeTensorsFile f = SafeTensors.read(path)) {
            assertEquals(List.of("small"), f.names());
        }
        assertEquals(8 + 64 + 4, Files.size(path));
    }

    static void assertMessage(Exception e, String... fragments) {
        List<String> missing = new ArrayList<>();
        for (String s : fragments) {
            if (!e.getMessage().contains(s)) {
                missing.add(s);
            }
        }
        assertTrue(missing.isEmpty(), "message lacks " + missing + ": " + e.getMessage());
    }

    private static int[] bits(float[] values) {
        int[] b = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = Float.floatToRawIntBits(values[i]);
        }
        return b;
    }
}
