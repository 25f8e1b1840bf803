package dev.deepnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.io.HandBuilt.Spec;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Parameter;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every class of defect a model file can have is refused by {@link ModelFile#load} with a
 * {@link SafeTensorsException} that names the file and the defect, and before anything is allocated
 * ({@link Tensor#bytesAllocated()} counts every tensor allocation, so it must not move).
 */
class ModelFileValidationTest {

    /** A small DAG with every layer kind that has settings, one per line so that a test can change one field. */
    static final String ARCHITECTURE = """
            {"format": "deepnet-model/1", "input": [1, 6, 6], "output": 12, "nodes": [
            {"layer": "conv", "name": "c1", "inputs": [0], "in": 1, "out": 2, "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1, 1, 1], "dilation": [1, 1]},
            {"layer": "relu", "name": "r1", "inputs": [1]},
            {"layer": "lrn", "name": "n1", "inputs": [2], "size": 3, "alpha": 0.0001, "beta": 0.75, "k": 2.0},
            {"layer": "maxpool", "name": "p1", "inputs": [3], "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0, 0, 0], "count_padding": false},
            {"layer": "avgpool", "name": "a1", "inputs": [3], "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0, 0, 0], "count_padding": true},
            {"layer": "concat", "name": "j1", "inputs": [4, 5]},
            {"layer": "flatten", "name": "f1", "inputs": [6]},
            {"layer": "dropout", "name": "o1", "inputs": [7], "p": 0.5},
            {"layer": "dense", "name": "d1", "inputs": [8], "in": 36, "out": 3, "activation": "linear"},
            {"layer": "dense", "name": "d2", "inputs": [8], "in": 36, "out": 3, "activation": "sigmoid"},
            {"layer": "add", "name": "s1", "inputs": [9, 10]},
            {"layer": "softmax", "name": "m1", "inputs": [11]}]}
            """;

    /** The tensors {@link #ARCHITECTURE} needs. */
    static Map<String, Spec> tensors() {
        Map<String, Spec> t = new LinkedHashMap<>();
        t.put("c1.weight", Spec.f32(2, 1, 3, 3));
        t.put("c1.bias", Spec.f32(2));
        t.put("d1.weight", Spec.f32(3, 36));
        t.put("d1.bias", Spec.f32(3));
        t.put("d2.weight", Spec.f32(3, 36));
        t.put("d2.bias", Spec.f32(3));
        return t;
    }

    static Path write(Path dir, String architecture, Map<String, Spec> tensors) throws IOException {
        return Files.write(dir.resolve("model.safetensors"),
                HandBuilt.tensors(Map.of(ModelFile.ARCHITECTURE_KEY, architecture), tensors));
    }

    /** {@code text} with its only occurrence of {@code from} replaced; a case whose {@code from} is not there is a broken test. */
    static String replaceOnce(String text, String from, String to) {
        int at = text.indexOf(from);
        assertTrue(at >= 0, "'" + from + "' is not in the architecture");
        return text.substring(0, at) + to + text.substring(at + from.length());
    }

    /** Loads, expecting the typed exception with {@code expected} in its message, no cause, and no tensor allocated. */
    static SafeTensorsException assertRefused(Path file, String expected) {
        return assertRefused(file, expected, ModelFile.Limits.fromSystemProperties());
    }

    static SafeTensorsException assertRefused(Path file, String expected, ModelFile.Limits limits) {
        long allocated = Tensor.bytesAllocated();
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(file, limits).close());
        assertEquals(allocated, Tensor.bytesAllocated(), "nothing may be allocated for a bad file: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        // A cause would mean an unexpected exception was wrapped, not a defect found by a check.
        assertNull(e.getCause(), () -> "wrapped " + e.getCause());
        return e;
    }

    @Test
    void theBaseFileLoadsSoEveryCaseBelowFailsForItsOneChange(@TempDir Path dir) throws IOException {
        try (Model m = ModelFile.load(write(dir, ARCHITECTURE, tensors()))) {
            assertEquals(12, m.layers().size());
            assertEquals(Shape.of(1, 3), m.shapes(1)[12]);
            // The data bytes were copied: d2.bias is the last 12 bytes of the data buffer.
            int dataBytes = (int) tensors().values().stream().mapToLong(Spec::bytes).sum();
            Parameter bias = ModelWeights.named(m).get("d2.bias");
            for (int i = 0; i < 3; i++) {
                assertEquals(dataFloat(dataBytes - 12 + 4 * i), bias.value().getFlat(i));
            }
        }
    }

    /** The little-endian F32 at {@code offset} of {@link HandBuilt#tensors}' data, whose byte i is i % 61. */
    static float dataFloat(int offset) {
        int bits = 0;
        for (int k = 0; k < 4; k++) {
            bits |= ((offset + k) % 61) << (8 * k);
        }
        return Float.intBitsToFloat(bits);
    }

    static Stream<Arguments> wrongJsonTypes() {
        return Stream.of(
                Arguments.of("\"in\": 1,", "\"in\": \"1\",", "layer 'c1': in must be an integer, got \"1\""),
                Arguments.of("\"in\": 1,", "\"in\": 1.5,", "layer 'c1': in must be an integer, got 1.5"),
                Arguments.of("\"in\": 1,", "\"in\": 1e0,", "layer 'c1': in must be an integer, got 1e0"),
                Arguments.of("\"kernel\": [3, 3]", "\"kernel\": 3", "layer 'c1': kernel must have 2 entries, got 3"),
                Arguments.of("\"kernel\": [3, 3]", "\"kernel\": [3, \"3\"]", "layer 'c1': kernel[1] must be an integer, got \"3\""),
                Arguments.of("\"kernel\": [3, 3]", "\"kernel\": {\"h\": 3}", "layer 'c1': kernel must have 2 entries, got an object"),
                Arguments.of("\"inputs\": [1]}", "\"inputs\": 1}", "layer 'r1': inputs must be a JSON array, got 1"),
                Arguments.of("\"inputs\": [1]}", "\"inputs\": [null]}", "layer 'r1': inputs[0] must be an integer, got null"),
                Arguments.of("\"name\": \"c1\"", "\"name\": 5", "node 1: name must be a string, got 5"),
                Arguments.of("\"count_padding\": false", "\"count_padding\": \"false\"", "layer 'p1': count_padding must be true or false"),
                Arguments.of("\"activation\": \"linear\"", "\"activation\": null", "layer 'd1': activation must be a string, got null"),
                Arguments.of("\"alpha\": 0.0001", "\"alpha\": [0.0001]", "layer 'n1': alpha must be a number, got [0.0001]"),
                Arguments.of("\"layer\": \"conv\"", "\"layer\": [\"conv\"]", "layer 'c1': unknown layer type [\"conv\"]"),
                Arguments.of("\"format\": \"deepnet-model/1\"", "\"format\": 1", "format must be a string, got 1"),
                Arguments.of("\"output\": 12", "\"output\": \"12\"", "output must be an integer, got \"12\""),
                Arguments.of("\"input\": [1, 6, 6]", "\"input\": \"1x6x6\"", "input must be a JSON array"),
                Arguments.of("\"nodes\": [", "\"nodes\": [7, ", "node 1 must be a JSON object, got 7"),
                Arguments.of("\"nodes\": [", "\"nodes\": {\"x\": [", "not JSON"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("wrongJsonTypes")
    void aValueOfTheWrongJsonTypeIsRefused(String from, String to, String expected, @TempDir Path dir) throws IOException {
        assertRefused(write(dir, replaceOnce(ARCHITECTURE, from, to), tensors()), "its architecture is invalid: " + expected);
    }

    @Test
    void anArchitectureThatIsNotAJsonObjectIsRefused(@TempDir Path dir) throws IOException {
        assertRefused(write(dir, "[]", tensors()), "the architecture must be a JSON object, got []");
        assertRefused(write(dir, "{\"format\": ", tensors()), "its architecture is invalid: not JSON");
        assertRefused(write(dir, "", tensors()), "its architecture is invalid: not JSON");
    }

    static Stream<Arguments> numbersOutOfRange() {
        return Stream.of(
                Arguments.of("\"in\": 1,", "\"in\": 0,", "layer 'c1': in must be from 1 to 2147483647, got 0"),
                Arguments.of("\"out\": 2,", "\"out\": -2,", "layer 'c1': out must be from 1 to 2147483647, got -2"),
                Arguments.of("\"out\": 2,", "\"out\": 99999999999999999999,", "layer 'c1': out must be from 1 to 2147483647, got 99999999999999999999"),
                // 2^32 + 2 would pass as 2 if it were cast to an int unchecked.
                Arguments.of("\"out\": 2,", "\"out\": 4294967298,", "layer 'c1': out must be from 1 to 2147483647, got 4294967298"),
                Arguments.of("\"stride\": [1, 1]", "\"stride\": [4294967297, 1]", "layer 'c1': stride[0] must be from 1 to 2147483647"),
                Arguments.of("\"kernel\": [3, 3]", "\"kernel\": [2147483647, 2147483647]",
                        "layer 'c1': shape [2, 1, 2147483647, 2147483647] needs more bytes than can be addressed"),
                Arguments.of("\"kernel\": [3, 3]", "\"kernel\": [0, 3]", "layer 'c1': kernel[0] must be from 1 to 2147483647, got 0"),
                Arguments.of("\"padding\": [1, 1, 1, 1]", "\"padding\": [-1, 1, 1, 1]", "layer 'c1': padding[0] must be from 0 to"),
                Arguments.of("\"dilation\": [1, 1]", "\"dilation\": [1, 0]", "layer 'c1': dilation[1] must be from 1 to"),
                Arguments.of("\"dilation\": [1, 1]", "\"dilation\": [1, 1], \"groups\": 0", "layer 'c1': groups must be from 1 to"),
                Arguments.of("\"dilation\": [1, 1]", "\"dilation\": [1, 1], \"groups\": 2",
                        "layer 'c1': in 1 and out 2 must be multiples of groups 2"),
                Arguments.of("\"input\": [1, 6, 6]", "\"input\": [0, 6, 6]", "input[0] must be from 1 to 9223372036854775807, got 0"),
                Arguments.of("\"input\": [1, 6, 6]", "\"input\": [1, -6, 6]", "input[1] must be from 1 to 9223372036854775807, got -6"),
                Arguments.of("\"input\": [1, 6, 6]", "\"input\": []", "input must have at least one dimension, got []"),
                Arguments.of("\"input\": [1, 6, 6]", "\"input\": [1, 6, 99999999999999999999]", "input[2] must be from 1 to 9223372036854775807, got 99999999999999999999"),
                Arguments.of("\"size\": 3", "\"size\": 4", "layer 'n1': LRN size must be odd"),
                Arguments.of("\"alpha\": 0.0001", "\"alpha\": 1e999", "layer 'n1': alpha 1e999 is out of range"),
                Arguments.of("\"k\": 2.0", "\"k\": 1e300", "layer 'n1': k 1.0E300 does not fit a float"),
                Arguments.of("\"k\": 2.0", "\"k\": 0", "layer 'n1': LRN needs k > 0"),
                Arguments.of("\"beta\": 0.75", "\"beta\": -0.75", "layer 'n1': LRN needs k > 0, alpha >= 0 and beta >= 0"),
                Arguments.of("\"p\": 0.5", "\"p\": 1", "layer 'o1': p (the dropout probability) must be in [0, 1), got 1.0"),
                Arguments.of("\"p\": 0.5", "\"p\": -0.5", "layer 'o1': p (the dropout probability) must be in [0, 1), got -0.5"),
                Arguments.of("\"padding\": [0, 0, 0, 0]", "\"padding\": [2, 0, 0, 0]", "layer 'p1': pooling padding must be smaller than the window"),
                Arguments.of("\"output\": 12", "\"output\": 0", "output must be from 1 to 2147483647, got 0"),
                Arguments.of("\"output\": 12", "\"output\": 13", "output 13 is not a node: there are 12 layer nodes"),
                Arguments.of("\"output\": 12", "\"output\": -99999999999999999999", "output must be from 1 to 2147483647"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("numbersOutOfRange")
    void aNumberOutOfRangeIsRefused(String from, String to, String expected, @TempDir Path dir) throws IOException {
        assertRefused(write(dir, replaceOnce(ARCHITECTURE, from, to), tensors()), "its architecture is invalid: " + expected);
    }

    static Stream<Arguments> arraysOfTheWrongLength() {
        return Stream.of(
                Arguments.of("\"kernel\": [3, 3]", "\"kernel\": [3]", "layer 'c1': kernel must have 2 entries, got [3]"),
                Arguments.of("\"padding\": [1, 1, 1, 1]", "\"padding\": []", "layer 'c1': padding must have 4 entries, got []"),
                Arguments.of("\"stride\": [1, 1]", "\"stride\": [1, 1, 1]", "layer 'c1': stride must have 2 entries, got [1, 1, 1]"),
                Arguments.of("\"dilation\": [1, 1]", "\"dilation\": [1]", "layer 'c1': dilation must have 2 entries, got [1]"),
                Arguments.of("\"kernel\": [2, 2]", "\"kernel\": [2]", "layer 'p1': kernel must have 2 entries, got [2]"),
                Arguments.of("\"padding\": [0, 0, 0, 0]", "\"padding\": [0, 0]", "layer 'p1': padding must have 4 entries, got [0, 0]"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("arraysOfTheWrongLength")
    void anArrayOfTheWrongLengthIsRefused(String from, String to, String expected, @TempDir Path dir) throws IOException {
        assertRefused(write(dir, replaceOnce(ARCHITECTURE, from, to), tensors()), "its architecture is invalid: " + expected);
    }

    static Stream<Arguments> unknownOrMissingFields() {
        return Stream.of(
                Arguments.of("\"layer\": \"conv\"", "\"layer\": \"transformer\"", "layer 'c1': unknown layer type 'transformer' (known: adaptivepool, add, avgpool, batchnorm, clip"),
                Arguments.of("\"dilation\": [1, 1]", "\"dilation\": [1, 1], \"bias\": false", "layer 'c1': unknown field \"bias\""),
                Arguments.of("\"p\": 0.5", "\"p\": 0.5, \"in\": 36", "layer 'o1': unknown field \"in\""),
                Arguments.of(", \"dilation\": [1, 1]", "", "layer 'c1': missing field \"dilation\""),
                Arguments.of("\"layer\": \"conv\", ", "", "layer 'c1': missing field \"layer\""),
                Arguments.of("\"name\": \"c1\", ", "", "node 1: missing field \"name\""),
                Arguments.of(", \"count_padding\": true", "", "layer 'a1': missing field \"count_padding\""),
                Arguments.of("\"format\": \"deepnet-model/1\"", "\"format\": \"deepnet-model/2\"", "format is \"deepnet-model/2\", expected \"deepnet-model/1\""),
                Arguments.of("\"output\": 12", "\"output\": 12, \"extra\": 1", "unknown field \"extra\" (expected format, input, nodes, output)"),
                Arguments.of("\"output\": 12, ", "", "missing field \"output\""),
                Arguments.of("\"activation\": \"linear\"", "\"activation\": \"swish\"", "layer 'd1': activation must be one of [sigmoid, relu, tanh, linear], got \"swish\""));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("unknownOrMissingFields")
    void anUnknownKindOrFieldOrAMissingFieldIsRefused(String from, String to, String expected, @TempDir Path dir) throws IOException {
        assertRefused(write(dir, replaceOnce(ARCHITECTURE, from, to), tensors()), "its architecture is invalid: " + expected);
    }

    static Stream<Arguments> badGraphs() {
        return Stream.of(
                Arguments.of("\"inputs\": [1]}", "\"inputs\": [2]}", "layer 'r1': inputs[0] must be from 0 to 1, got 2 (it is node 2; a node's inputs are earlier nodes"),
                Arguments.of("\"inputs\": [0]", "\"inputs\": [5]", "layer 'c1': inputs[0] must be from 0 to 0, got 5"),
                Arguments.of("\"inputs\": [0]", "\"inputs\": [-1]", "layer 'c1': inputs[0] must be from 0 to 0, got -1"),
                Arguments.of("\"inputs\": [0]", "\"inputs\": [99999999999999999999]", "layer 'c1': inputs[0] must be from 0 to 0, got 99999999999999999999"),
                Arguments.of("\"inputs\": [4, 5]", "\"inputs\": [4, 4]", "layer 'j1' is given node 4 twice"),
                Arguments.of("\"inputs\": [4, 5]", "\"inputs\": [4]", "layer 'j1' takes two or more inputs, got 1"),
                Arguments.of("\"inputs\": [1]}", "\"inputs\": [0, 1]}", "layer 'r1' takes one input, got 2"),
                Arguments.of("\"inputs\": [1]}", "\"inputs\": []}", "layer 'r1' takes one input, got 0"),
                Arguments.of("\"name\": \"r1\"", "\"name\": \"c1\"", "node 2: two layers are named 'c1'"),
                Arguments.of("\"name\": \"c1\"", "\"name\": \"c 1\"", "node 1: a layer name is letters, digits, '_' and '.', got \"c 1\""),
                Arguments.of("\"name\": \"c1\"", "\"name\": \"\"", "node 1: a layer name is letters"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badGraphs")
    void aBadNodeReferenceCycleOrNameIsRefused(String from, String to, String expected, @TempDir Path dir) throws IOException {
        assertRefused(write(dir, replaceOnce(ARCHITECTURE, from, to), tensors()), "its architecture is invalid: " + expected);
    }

    static Stream<Arguments> shapesThatDoNotFit() {
        return Stream.of(
                Arguments.of("\"in\": 36, \"out\": 3, \"activation\": \"linear\"", "\"in\": 35, \"out\": 3, \"activation\": \"linear\"",
                        "layer 'd1': expects input (N, 35) but got (1, 36)"),
                Arguments.of("\"in\": 1,", "\"in\": 3,", "layer 'c1': expects input (N, 3, H, W) but got (1, 1, 6, 6)"),
                Arguments.of("\"kernel\": [3, 3]", "\"kernel\": [9, 3]", "layer 'c1': convolution kernel (2, 1, 9, 3) spans 9 in height"),
                Arguments.of("\"kernel\": [2, 2]", "\"kernel\": [7, 2]", "layer 'p1': pooling window 7x2 is larger than the padded input"),
                Arguments.of("\"in\": 36, \"out\": 3, \"activation\": \"sigmoid\"", "\"in\": 36, \"out\": 4, \"activation\": \"sigmoid\"",
                        "layer 's1': inputs must have equal shapes, got [(1, 3), (1, 4)]"),
                Arguments.of("\"stride\": [2, 2], \"padding\": [0, 0, 0, 0], \"count_padding\": true",
                        "\"stride\": [1, 1], \"padding\": [0, 0, 0, 0], \"count_padding\": true",
                        "layer 'j1': inputs must agree on every dimension but 1"),
                Arguments.of("\"inputs\": [8], \"in\": 36", "\"inputs\": [6], \"in\": 36", "layer 'd1': expects input (N, 36) but got (1, 4, 3, 3); add a Flatten"),
                Arguments.of("\"input\": [1, 6, 6]", "\"input\": [6, 6]", "layer 'c1': expects input (N, 1, H, W) but got (1, 6, 6)"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("shapesThatDoNotFit")
    void shapesThatDoNotFitAreRefusedNamingTheLayer(String from, String to, String expected, @TempDir Path dir) throws IOException {
        assertRefused(write(dir, replaceOnce(ARCHITECTURE, from, to), tensors()), "its architecture is invalid: " + expected);
    }

    @Test
    void tensorsThatDoNotFitTheArchitectureAreRefused(@TempDir Path dir) throws IOException {
        Map<String, Spec> missing = tensors();
        missing.remove("d2.bias");
        assertRefused(write(dir, ARCHITECTURE, missing), "does not fit its architecture (nothing was loaded): missing tensor 'd2.bias' (3)");

        Map<String, Spec> extra = tensors();
        extra.put("x.weight", Spec.f32(2));
        assertRefused(write(dir, ARCHITECTURE, extra), "tensor 'x.weight' is not a parameter of its architecture");

        Map<String, Spec> dtype = tensors();
        dtype.put("c1.bias", new Spec("F16", 2));
        assertRefused(write(dir, ARCHITECTURE, dtype), "tensor 'c1.bias' is F16, not F32");

        Map<String, Spec> shape = tensors();
        shape.put("d1.weight", Spec.f32(36, 3));
        assertRefused(write(dir, ARCHITECTURE, shape), "tensor 'd1.weight' has shape [36, 3] but its architecture's is (3, 36)");

        assertRefused(write(dir, ARCHITECTURE, Map.of()), "missing tensor 'c1.weight' (2, 1, 3, 3)");
    }

    @Test
    void aHostileFileListsAFewOfItsManyStrayTensorsNotAll(@TempDir Path dir) throws IOException {
        Map<String, Spec> stray = tensors();
        for (int i = 0; i < 500; i++) {
            stray.put("stray" + i, Spec.f32(1));
        }
        SafeTensorsException e = assertRefused(write(dir, ARCHITECTURE, stray), "; and 490 more");
        assertTrue(e.getMessage().length() < 2000, e.getMessage());
    }

    @Test
    void aHugeDenseLayerWithNoTensorsFailsAtOnceWithoutAllocating(@TempDir Path dir) throws IOException {
        // 46341^2 > 2^31 floats: once this asked for 8 GiB before it looked at the tensors.
        String huge = """
                {"format": "deepnet-model/1", "input": [46341], "output": 1, "nodes": [
                {"layer": "dense", "name": "d", "inputs": [0], "in": 46341, "out": 46341, "activation": "linear"}]}""";
        assertRefused(write(dir, huge, Map.of()), "layer 'd': parameter 'd.weight' (46341, 46341) brings the model to 2147488281 "
                + "parameters, more than the limit of " + ModelFile.Limits.DEFAULT_MAX_PARAMETERS + " (deepnet.modelfile.maxParameters)");
        // 20000^2 is within the limit: what stops it is the missing tensor, found before 1.6 GB are allocated.
        assertRefused(write(dir, huge.replace("46341", "20000"), Map.of()), "missing tensor 'd.weight' (20000, 20000)");
    }

    @Test
    void anArchitectureWhoseActivationsExceedTheLimitIsRefused(@TempDir Path dir) throws IOException {
        String wide = """
                {"format": "deepnet-model/1", "input": [1, 100000, 100000], "output": 1, "nodes": [
                {"layer": "relu", "name": "r", "inputs": [0]}]}""";
        assertRefused(write(dir, wide, Map.of()), "input [1, 100000, 100000] holds more than the limit of "
                + ModelFile.Limits.DEFAULT_MAX_ACTIVATIONS + " activation elements per sample (deepnet.modelfile.maxActivations)");
        // Each node alone is within the limit, together they are not: a plan holds them all. The
        // input and three layers make exactly 2^28 elements, the limit; the fourth layer is too many.
        StringBuilder many = new StringBuilder("{\"format\": \"deepnet-model/1\", \"input\": [1, 8192, 8192], \"output\": 8, \"nodes\": [");
        for (int i = 1; i <= 8; i++) {
            many.append(i == 1 ? "" : ", ").append("{\"layer\": \"relu\", \"name\": \"r").append(i).append("\", \"inputs\": [")
                    .append(i - 1).append("]}");
        }
        assertRefused(write(dir, many.append("]}").toString(), Map.of()),
                "layer 'r4': output (1, 1, 8192, 8192) brings one sample's activations to more than the limit of 268435456 elements");
    }

    @Test
    void theLimitsAreExactAndSettableByArgumentAndSystemProperty(@TempDir Path dir) throws IOException {
        Path file = write(dir, ARCHITECTURE, tensors());
        long parameters;
        long activations = 0;
        try (Model m = ModelFile.load(file)) {
            parameters = m.parameterCount();
            for (Shape s : m.shapes(1)) {
                activations += s.size();
            }
        }
        try (Model m = ModelFile.load(file, new ModelFile.Limits(parameters, activations))) {
            assertEquals(parameters, m.parameterCount(), "a model exactly at both limits loads");
        }
        assertRefused(file, "more than the limit of " + (parameters - 1) + " (deepnet.modelfile.maxParameters)",
                new ModelFile.Limits(parameters - 1, activations));
        assertRefused(file, "more than the limit of " + (activations - 1) + " elements (deepnet.modelfile.maxActivations)",
                new ModelFile.Limits(parameters, activations - 1));

        String previous = System.getProperty(ModelFile.Limits.MAX_PARAMETERS_PROPERTY);
        try {
            System.setProperty(ModelFile.Limits.MAX_PARAMETERS_PROPERTY, Long.toString(parameters - 1));
            assertEquals(parameters - 1, ModelFile.Limits.fromSystemProperties().maxParameters());
            long allocated = Tensor.bytesAllocated();
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(file));
            assertTrue(e.getMessage().contains("more than the limit of " + (parameters - 1)), e.getMessage());
            assertEquals(allocated, Tensor.bytesAllocated());
            System.setProperty(ModelFile.Limits.MAX_PARAMETERS_PROPERTY, "lots");
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(file));
            assertTrue(bad.getMessage().contains("deepnet.modelfile.maxParameters must be a whole number, got 'lots'"), bad.getMessage());
        } finally {
            if (previous == null) {
                System.clearProperty(ModelFile.Limits.MAX_PARAMETERS_PROPERTY);
            } else {
                System.setProperty(ModelFile.Limits.MAX_PARAMETERS_PROPERTY, previous);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new ModelFile.Limits(0, 1));
    }

    /**
     * The checks work from the settings alone, restating dense's, convolution's and batch norm's shape rules: they
     * must name exactly the parameters and shapes the real layers have, or a good file would be refused.
     */
    @Test
    void theArchitectureKnowsTheParametersAndActivationsOfTheLayersItWillBuild() throws Exception {
        try (Model every = ModelFileTest.everyLayer(); Model lenet = LeNet.create(10, 1)) {
            for (Model m : new Model[] {every, lenet}) {
                Architecture a = Architecture.read(ModelFile.architecture(m), ModelFile.Limits.fromSystemProperties());
                Map<String, Shape> real = new LinkedHashMap<>();
                ModelWeights.named(m).forEach((name, p) -> real.put(name, p.shape()));
                assertEquals(real, a.parameters());
                long stored = 0; // parameters and buffers (batch norm's running statistics): what the file holds
                for (Shape s : real.values()) {
                    stored += s.size();
                }
                assertEquals(stored, a.parameterCount());
                long activations = 0;
                for (Shape s : m.shapes(1)) {
                    activations += s.size();
                }
                assertEquals(activations, a.activationCount());
            }
        }
    }
}
