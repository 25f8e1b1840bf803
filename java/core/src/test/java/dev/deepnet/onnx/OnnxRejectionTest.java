package dev.deepnet.onnx;

import static dev.deepnet.onnx.TestGraph.integer;
import static dev.deepnet.onnx.TestGraph.ints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Model;
import dev.deepnet.onnx.internal.OnnxProto.ModelProto;
import dev.deepnet.onnx.internal.OnnxProto.StringStringEntryProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorProto;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What deepnet does not read fails as one {@link OnnxException} naming the node, its op type and
 * the opset, and allocates no tensor first; external data may not leave the model's folder.
 */
class OnnxRejectionTest {

    @TempDir
    Path dir;

    /** Loads {@code bytes}, expecting a rejection; checks no tensor memory was left or taken; returns the message. */
    private String rejected(byte[] bytes) throws IOException {
        Path file = dir.resolve("m.onnx");
        Files.write(file, bytes);
        return rejected(file);
    }

    private static String rejected(Path file) {
        long before = Tensor.bytesAllocated();
        OnnxException e = assertThrows(OnnxException.class, () -> OnnxFile.load(file).close());
        assertEquals(before, Tensor.bytesAllocated(), "allocated before rejecting: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        return e.getMessage();
    }

    /** A conv net whose second node is {@code op} with the given attributes. */
    private static byte[] convThen(int opset, String op, List<String> extraInputs, dev.deepnet.onnx.internal.OnnxProto.AttributeProto... a) {
        TestGraph g = new TestGraph(opset, 1, 2, 6, 6);
        String c = g.node("Conv", List.of(g.input(), g.weights(4, 2, 3, 3)));
        List<String> in = new java.util.ArrayList<>(List.of(c));
        in.addAll(extraInputs);
        return g.bytes(g.node(op, in, a));
    }

    @Test
    void unknownOpsAreOneErrorNamingTheFirstNodeAndCountingTheRest() throws IOException {
        TestGraph g = new TestGraph(17, 1, 2, 6, 6);
        String c = g.node("Conv", List.of(g.input(), g.weights(4, 2, 3, 3)));
        String ln = g.node("LayerNormalization", List.of(c, g.weights(4), g.weights(4)));
        String hs1 = g.node("HardSwish", List.of(ln));
        String out = g.node("HardSwish", List.of(g.node("Relu", List.of(hs1))));
        String m = rejected(g.bytes(out));
        assertTrue(m.contains("node 'layernormalization4' (LayerNormalization, opset 17): op LayerNormalization is not supported"), m);
        assertTrue(m.contains("nor are HardSwish (2 nodes)"), m);
        assertTrue(m.contains("deepnet reads Add, AveragePool, BatchNormalization, Clip, Concat, Constant, Conv,"), m);
    }

    @Test
    void groupsThatDoNotFitAreNamed() throws IOException {
        TestGraph g = new TestGraph(13, 1, 4, 6, 6);
        String m = rejected(g.bytes(g.node("Conv", List.of(g.input(), g.weights(4, 2, 3, 3)), integer("group", 3))));
        assertTrue(m.endsWith("node 'conv1' (Conv, opset 13): attribute group = 3 does not divide the input's 4 channels"), m);
        g = new TestGraph(13, 1, 4, 6, 6);
        m = rejected(g.bytes(g.node("Conv", List.of(g.input(), g.weights(3, 2, 3, 3)), integer("group", 2))));
        assertTrue(m.contains("weight (3, 2, 3, 3) does not fit input (N, 4, 6, 6) in 2 groups"), m);
    }

    @Test
    void batchNormalizationInTrainingModeOrWithItsStatisticsReadIsRefused() throws IOException {
        TestGraph g = new TestGraph(17, 1, 2, 6, 6);
        String m = rejected(g.bytes(g.node("BatchNormalization", List.of(g.input(), g.weights(2), g.weights(2), g.weights(2),
                g.weights(2)), integer("training_mode", 1))));
        assertTrue(m.endsWith("(BatchNormalization, opset 17): training_mode = 1 (normalising with the batch's statistics"
                + " at inference) is not supported"), m);
        g = new TestGraph(17, 1, 2, 6, 6);
        m = rejected(g.bytes(g.node("BatchNormalization", List.of(g.input(), g.weights(3), g.weights(2), g.weights(2), g.weights(2)))));
        assertTrue(m.contains("the scale (3) does not fit 2 channels"), m);
    }

    @Test
    void anAttributeNoConverterReadsIsRefused() throws IOException {
        String m = rejected(convThen(17, "Relu", List.of(), integer("alpha_ish", 1)));
        assertTrue(m.endsWith("node 'relu2' (Relu, opset 17): attribute 'alpha_ish' is not supported"), m);
    }

    @Test
    void unsupportedSettingsAreNamed() throws IOException {
        assertTrue(rejected(convThen(17, "Softmax", List.of(), integer("axis", 2))).contains("softmax over axis 2"));
        assertTrue(rejected(convThen(11, "Softmax", List.of())).contains("flattened"));
        assertTrue(rejected(convThen(17, "Flatten", List.of(), integer("axis", 2))).contains("attribute axis = 2"));
        assertTrue(rejected(convThen(17, "LRN", List.of(), integer("size", 4))).contains("attribute size = 4"));
        assertTrue(rejected(convThen(17, "MaxPool", List.of(), ints("kernel_shape", 2, 2), ints("dilations", 2, 2)))
                .contains("attribute dilations = [2, 2] is not supported"));
        assertTrue(rejected(convThen(17, "Concat", List.of(), integer("axis", 2))).contains("attribute axis = 2"));
        TestGraph g = new TestGraph(17, 1, 2, 3, 3);
        assertTrue(rejected(g.bytes(g.node("Reshape", List.of(g.input(), g.int64s(0, 2, 9))))).contains("Reshape of (N, 2, 3, 3) to [0, 2, 9]"));
        TestGraph h = new TestGraph(17, 1, 4);
        assertTrue(rejected(h.bytes(h.node("Add", List.of(h.input(), h.weights(4))))).contains("adding a constant"));
        TestGraph k = new TestGraph(17, 1, 4);
        assertTrue(rejected(k.bytes(k.node("Dropout", List.of(k.input(), k.floats(new float[] {0.5f}), boolTensor(k)))))
                .contains("training_mode = true"));
    }

    private static String boolTensor(TestGraph g) {
        g.graph.addInitializer(TensorProto.newBuilder().setName("train").setDataType(TensorProto.DataType.BOOL_VALUE).addInt32Data(1));
        return "train";
    }

    @Test
    void opsetsOutsideElevenToTwentyOneAreRefused() throws IOException {
        for (int opset : new int[] {9, 22}) {
            TestGraph g = new TestGraph(opset, 1, 4);
            String m = rejected(g.bytes(g.node("Relu", List.of(g.input()))));
            assertTrue(m.endsWith("uses opset " + opset + "; deepnet reads opsets 11 to 21 (re-export the model with one of them)"), m);
        }
    }

    @Test
    void notOnnxAtAll() throws IOException {
        assertTrue(rejected(new byte[] {(byte) 0xff, 1, 2, 3, 4}).contains("is not an ONNX model"));
        assertTrue(rejected(new byte[0]).contains("imports no version of the default ONNX opset"));
    }

    @Test
    void symbolicDimensionsButTheBatchAreRefused() throws IOException {
        TestGraph g = new TestGraph(17, 1, 4);
        ModelProto m = g.model(g.node("Relu", List.of(g.input())));
        ModelProto.Builder b = m.toBuilder();
        b.getGraphBuilder().getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(1)
                .setDimParam("features");
        assertTrue(rejected(b.build().toByteArray()).contains("dimension 1 is symbolic ('features')"));
    }

    @Test
    void theLimitsApplyBeforeAllocating() throws IOException {
        TestGraph g = new TestGraph(17, 1, 6);
        Path file = dir.resolve("gemm.onnx");
        Files.write(file, g.bytes(g.node("Gemm", List.of(g.input(), g.weights(6, 4)))));
        long before = Tensor.bytesAllocated();
        OnnxException e = assertThrows(OnnxException.class, () -> OnnxFile.load(file, new ModelFile.Limits(20, 1000)));
        assertEquals(before, Tensor.bytesAllocated());
        assertTrue(e.getMessage().contains("more than the limit of 20 parameters (deepnet.modelfile.maxParameters)"), e.getMessage());
        try (Model m = OnnxFile.load(file, new ModelFile.Limits(28, 1000))) {
            assertEquals(28, m.parameterCount());
        }
    }

    @Test
    void weightsOfTheWrongSizeAreRefused() throws IOException {
        TestGraph g = new TestGraph(17, 1, 3);
        g.graph.addInitializer(TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(3)
                .addDims(2).addFloatData(1).addFloatData(2));
        String m = rejected(g.bytes(g.node("MatMul", List.of(g.input(), "w"))));
        assertTrue(m.contains("initializer 'w': (3, 2) of FLOAT needs 6 values but its data holds 2"), m);
    }

    // ---------------------------------------------------------------- external data

    /** A MatMul whose (3, 2) weight is in external file {@code location} at {@code offset}. */
    private byte[] external(String location, long offset) {
        TestGraph g = new TestGraph(17, 1, 3);
        g.graph.addInitializer(TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(3)
                .addDims(2).setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset))));
        return g.bytes(g.node("MatMul", List.of(g.input(), "w")));
    }

    private static byte[] weights(int pad) {
        ByteBuffer b = ByteBuffer.allocate(pad + 24).order(ByteOrder.LITTLE_ENDIAN).position(pad);
        for (int i = 0; i < 6; i++) {
            b.putFloat(i + 1);
        }
        return b.array();
    }

    @Test
    void externalDataInsideTheFolderLoads() throws IOException {
        Files.createDirectories(dir.resolve("data"));
        Files.write(dir.resolve("data/w.bin"), weights(16));
        Files.write(dir.resolve("m.onnx"), external("data/w.bin", 16));
        try (Model m = OnnxFile.load(dir.resolve("m.onnx"))) {
            // MatMul's B (3, 2) becomes the dense weight (2, 3): transposed
            assertEquals(List.of(1f, 3f, 5f, 2f, 4f, 6f), toList(m.parameters().get(0).value().toArray()));
        }
    }

    @Test
    void externalDataMayNotLeaveTheModelsFolder() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.write(dir.resolve("outside.bin"), weights(0));
        Files.write(model.resolve("m.onnx"), external("../outside.bin", 0));
        assertTrue(rejected(model.resolve("m.onnx")).contains("leaves the model's folder"));
        Files.write(model.resolve("m.onnx"), external(dir.resolve("outside.bin").toString(), 0));
        assertTrue(rejected(model.resolve("m.onnx")).contains("is absolute"));
        Files.createSymbolicLink(model.resolve("link.bin"), dir.resolve("outside.bin"));
        Files.write(model.resolve("m.onnx"), external("link.bin", 0));
        assertTrue(rejected(model.resolve("m.onnx")).contains("is a link that leaves the model's folder"));
        Files.write(model.resolve("m.onnx"), external("missing.bin", 0));
        assertTrue(rejected(model.resolve("m.onnx")).contains("cannot be opened"));
        Files.write(model.resolve("short.bin"), weights(0));
        Files.write(model.resolve("m.onnx"), external("short.bin", 8));
        assertTrue(rejected(model.resolve("m.onnx")).contains("holds 24 bytes, too few for 24 bytes at offset 8"));
    }

    private static List<Float> toList(float[] v) {
        List<Float> out = new java.util.ArrayList<>();
        for (float f : v) {
            out.add(f);
        }
        return out;
    }
}
