package dev.deepnet.fuzz;

import static dev.deepnet.onnx.TestGraph.integer;
import static dev.deepnet.onnx.TestGraph.ints;
import static dev.deepnet.onnx.TestGraph.real;
import static dev.deepnet.onnx.TestGraph.string;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.deepnet.fuzz.Mutator.Mutation;
import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Add;
import dev.deepnet.nn.AvgPool2d;
import dev.deepnet.nn.Concat;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Dropout;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Lrn;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Relu;
import dev.deepnet.nn.Softmax;
import dev.deepnet.onnx.OnnxException;
import dev.deepnet.onnx.OnnxFile;
import dev.deepnet.onnx.TestGraph;
import dev.deepnet.onnx.internal.OnnxProto.AttributeProto;
import dev.deepnet.onnx.internal.OnnxProto.AttributeProto.AttributeType;
import dev.deepnet.onnx.internal.OnnxProto.GraphProto;
import dev.deepnet.onnx.internal.OnnxProto.ModelProto;
import dev.deepnet.onnx.internal.OnnxProto.NodeProto;
import dev.deepnet.onnx.internal.OnnxProto.StringStringEntryProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorShapeProto;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * ONNX files through {@link OnnxFile#load}: protobuf messages whose structure the mutators edit
 * through the generated builders — op types, attributes (values, types, new and missing ones),
 * node inputs and order, initializers' dimensions, types, data and external-data entries (with
 * locations that try to leave the folder), the input's shape, the opset — besides the byte-level
 * damage every format gets. Each input is loaded from a private folder that also holds the
 * external data file a seed refers to, and run once on the reference ops at batch 2.
 */
public final class OnnxFuzzFormat implements FuzzFormat {

    private static final String EXTERNAL = "weights.bin";

    private static final List<String> OP_TYPES = List.of("Conv", "Gemm", "MatMul", "Add", "Sum", "Relu", "Sigmoid", "Tanh",
            "MaxPool", "AveragePool", "LRN", "Softmax", "Flatten", "Reshape", "Concat", "Dropout", "Identity", "Constant",
            "BatchNormalization", "GlobalAveragePool", "Clip", "", "conv", "If");

    private static final List<String> ATTRIBUTES = List.of("kernel_shape", "strides", "pads", "dilations", "group", "auto_pad",
            "transA", "transB", "alpha", "beta", "axis", "size", "bias", "ceil_mode", "count_include_pad", "ratio", "allowzero",
            "value", "value_float", "value_ints", "storage_order", "epsilon", "momentum", "training_mode", "min", "max", "unknown");

    private static final List<String> LOCATIONS = List.of(EXTERNAL, "../" + EXTERNAL, "/etc/passwd", "/proc/self/mem", "",
            ".", "..", "sub/../" + EXTERNAL, "./" + EXTERNAL, "model.onnx", EXTERNAL + "\0x", "nonexistent.bin", "/dev/zero");

    private static final List<String> EXTERNAL_KEYS = List.of("location", "offset", "length", "checksum", "other");

    @Override
    public String name() {
        return "onnx";
    }

    @Override
    public List<Seed> seeds(Path scratch) throws IOException {
        List<Seed> seeds = new ArrayList<>();
        try (Model convNet = Model.sequential(Shape.of(1, 6, 6), 11, new Conv2d(1, 2, 3, 1, 1), new Relu(), new MaxPool2d(2, 2),
                new Flatten(), new Dense(18, 3, Activation.SIGMOID), new Softmax())) {
            seeds.add(saved("conv-net", convNet, scratch));
        }
        try (Model dag = dag()) {
            seeds.add(saved("dag", dag, scratch));
        }
        seeds.add(new Seed("hand-written-ops", handWritten()));
        seeds.add(new Seed("external-data", external()));
        return seeds;
    }

    /** Both joins, LRN, both poolings, dropout, dense layers with and without activations. */
    private static Model dag() {
        Model.Builder b = Model.builder(Shape.of(2, 5, 5));
        Node conv = b.add(new Conv2d(2, 3, 3, 1, 1), b.input());
        Node lrn = b.add(new Lrn(), conv);
        Node flat = b.add(new Flatten(), b.add(new Concat(), b.add(new MaxPool2d(3, 2), lrn), b.add(new AvgPool2d(3, 2), lrn)));
        Node drop = b.add(new Dropout(0.25), flat);
        Node left = b.add(new Dense(24, 4, Activation.TANH), drop);
        Node right = b.add(new Dense(24, 4), drop);
        return b.build(b.add(new Add(), left, right), 17);
    }

    /** Ops deepnet's writer does not use: Gemm untransposed with alpha and C, MatMul + Add, Reshape, Constant, ceil mode, opset 11. */
    private static byte[] handWritten() {
        TestGraph g = new TestGraph(11, 3, 2, 5, 5);
        String pool = g.node("AveragePool", List.of(g.input()), ints("kernel_shape", 2, 2), ints("strides", 2, 2),
                integer("ceil_mode", 1), string("auto_pad", "NOTSET"));
        String conv = g.node("Conv", List.of(pool, g.weights(3, 2, 2, 2)), string("auto_pad", "SAME_UPPER"));
        String biased = g.node("Add", List.of(conv, g.weights(1, 3, 1, 1)));
        String flat = g.node("Reshape", List.of(g.node("Identity", List.of(biased)), g.int64s(0, -1)));
        String gemm = g.node("Gemm", List.of(flat, g.weights(27, 4), g.weights(4)), real("alpha", 0.5f), integer("transB", 0));
        String mm = g.node("MatMul", List.of(g.node("Relu", List.of(gemm)), g.node("Constant", List.of(),
                TestGraph.tensorAttribute("value", 4, 3))));
        String added = g.node("Add", List.of(mm, g.weights(3)));
        return g.bytes(g.node("Softmax", List.of(g.node("Dropout", List.of(added), real("ratio", 0.1f)))));
    }

    /** A MatMul whose weights are in {@value #EXTERNAL}, beside the model. */
    private static byte[] external() {
        TestGraph g = new TestGraph(17, 5, 3);
        g.graph.addInitializer(TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(3).addDims(2)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(EXTERNAL))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("8"))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue("24")));
        return g.bytes(g.node("Tanh", List.of(g.node("MatMul", List.of(g.input(), "w")))));
    }

    /** The external data file: 64 bytes of small floats, so any offset and length up to 64 fit. */
    private static byte[] externalData() {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 16; i++) {
            b.putFloat((i - 8) / 8f);
        }
        return b.array();
    }

    private static Seed saved(String name, Model model, Path scratch) throws IOException {
        Path file = scratch.resolve("seed-" + name + ".onnx");
        OnnxFile.save(model, file);
        return new Seed(name, Files.readAllBytes(file));
    }

    @Override
    public List<Mutator> structureMutators() {
        return List.of(OnnxFuzzFormat::opType, OnnxFuzzFormat::attributeValue, OnnxFuzzFormat::attributeValue,
                OnnxFuzzFormat::attributeType, OnnxFuzzFormat::addAttribute, OnnxFuzzFormat::removeAttribute,
                OnnxFuzzFormat::rewireInput, OnnxFuzzFormat::nodeOrder, OnnxFuzzFormat::initializerDims,
                OnnxFuzzFormat::initializerData, OnnxFuzzFormat::externalData, OnnxFuzzFormat::externalData,
                OnnxFuzzFormat::inputShape, OnnxFuzzFormat::opset, OnnxFuzzFormat::graphOutput);
    }

    @Override
    public int structurePercent() {
        return 75;
    }

    /** An edit of a parsed model; returns its description, or null when its structure is missing. */
    @FunctionalInterface
    private interface Edit {
        String apply(ModelProto.Builder model, RandomGenerator r);
    }

    private static Mutation edit(byte[] in, RandomGenerator r, Edit edit) {
        ModelProto.Builder b;
        try {
            b = ModelProto.parseFrom(in).toBuilder();
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
        String what = edit.apply(b, r);
        return what == null ? null : new Mutation(b.build().toByteArray(), what);
    }

    private static NodeProto.Builder someNode(ModelProto.Builder m, RandomGenerator r) {
        GraphProto.Builder g = m.getGraphBuilder();
        return g.getNodeCount() == 0 ? null : g.getNodeBuilder(r.nextInt(g.getNodeCount()));
    }

    private static Mutation opType(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            NodeProto.Builder n = someNode(m, rr);
            if (n == null) {
                return null;
            }
            String op = OP_TYPES.get(rr.nextInt(OP_TYPES.size()));
            n.setOpType(op);
            return "op type of " + n.getName() + " set to '" + op + "'";
        });
    }

    private static Mutation attributeValue(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            NodeProto.Builder n = someNode(m, rr);
            if (n == null || n.getAttributeCount() == 0) {
                return null;
            }
            AttributeProto.Builder a = n.getAttributeBuilder(rr.nextInt(n.getAttributeCount()));
            long v = rr.nextInt(3) == 0 ? InterestingValues.integer(rr) : rr.nextInt(7) - 2;
            switch (a.getType()) {
                case INT -> a.setI(v);
                case FLOAT -> a.setF(rr.nextBoolean() ? (float) v : Float.intBitsToFloat((int) v));
                case INTS -> {
                    if (a.getIntsCount() == 0 || rr.nextInt(4) == 0) {
                        a.addInts(v);
                    } else {
                        a.setInts(rr.nextInt(a.getIntsCount()), v);
                    }
                }
                case STRING -> a.setS(ByteString.copyFromUtf8(List.of("SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET", "same", "")
                        .get(rr.nextInt(6))));
                case TENSOR -> {
                    if (a.getT().getDimsCount() == 0) {
                        return null;
                    }
                    a.setT(a.getT().toBuilder().setDims(0, v));
                }
                default -> {
                    return null;
                }
            }
            return "attribute " + a.getName() + " of " + n.getName() + " changed (" + v + ")";
        });
    }

    private static Mutation attributeType(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            NodeProto.Builder n = someNode(m, rr);
            if (n == null || n.getAttributeCount() == 0) {
                return null;
            }
            AttributeProto.Builder a = n.getAttributeBuilder(rr.nextInt(n.getAttributeCount()));
            AttributeType t = AttributeType.values()[rr.nextInt(AttributeType.values().length - 1)];
            a.setType(t);
            return "attribute " + a.getName() + " of " + n.getName() + " typed " + t;
        });
    }

    private static Mutation addAttribute(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            NodeProto.Builder n = someNode(m, rr);
            if (n == null) {
                return null;
            }
            String name = ATTRIBUTES.get(rr.nextInt(ATTRIBUTES.size()));
            long v = rr.nextInt(3) == 0 ? InterestingValues.integer(rr) : rr.nextInt(5);
            AttributeProto a = switch (rr.nextInt(4)) {
                case 0 -> integer(name, v);
                case 1 -> real(name, v / 4f);
                case 2 -> ints(name, v, v, v, v);
                default -> string(name, "SAME_LOWER");
            };
            n.addAttribute(a);
            return "attribute " + name + " added to " + n.getName();
        });
    }

    private static Mutation removeAttribute(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            NodeProto.Builder n = someNode(m, rr);
            if (n == null || n.getAttributeCount() == 0) {
                return null;
            }
            int i = rr.nextInt(n.getAttributeCount());
            String name = n.getAttribute(i).getName();
            n.removeAttribute(i);
            return "attribute " + name + " removed from " + n.getName();
        });
    }

    /** An input of a node pointed at another value (or at none), or an input added or dropped. */
    private static Mutation rewireInput(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            NodeProto.Builder n = someNode(m, rr);
            if (n == null) {
                return null;
            }
            GraphProto.Builder g = m.getGraphBuilder();
            List<String> names = new ArrayList<>(List.of("", "nothing"));
            g.getInputList().forEach(v -> names.add(v.getName()));
            g.getInitializerList().forEach(t -> names.add(t.getName()));
            g.getNodeList().forEach(x -> names.addAll(x.getOutputList()));
            String to = names.get(rr.nextInt(names.size()));
            int op = rr.nextInt(4);
            if (op == 0 || n.getInputCount() == 0) {
                n.addInput(to);
                return "input '" + to + "' added to " + n.getName();
            }
            int i = rr.nextInt(n.getInputCount());
            if (op == 1) {
                List<String> inputs = new ArrayList<>(n.getInputList());
                inputs.remove(i);
                n.clearInput().addAllInput(inputs);
                return "input " + i + " of " + n.getName() + " removed";
            }
            n.setInput(i, to);
            return "input " + i + " of " + n.getName() + " set to '" + to + "'";
        });
    }

    private static Mutation nodeOrder(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            GraphProto.Builder g = m.getGraphBuilder();
            if (g.getNodeCount() < 2) {
                return null;
            }
            int i = rr.nextInt(g.getNodeCount());
            int j = rr.nextInt(g.getNodeCount());
            NodeProto a = g.getNode(i);
            switch (rr.nextInt(3)) {
                case 0 -> {
                    g.setNode(i, g.getNode(j)).setNode(j, a);
                    return "nodes " + i + " and " + j + " swapped";
                }
                case 1 -> {
                    g.removeNode(i);
                    return "node " + i + " removed";
                }
                default -> {
                    g.addNode(a);
                    return "node " + i + " repeated at the end";
                }
            }
        });
    }

    private static Mutation initializerDims(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            GraphProto.Builder g = m.getGraphBuilder();
            if (g.getInitializerCount() == 0) {
                return null;
            }
            TensorProto.Builder t = g.getInitializerBuilder(rr.nextInt(g.getInitializerCount()));
            long v = rr.nextBoolean() ? InterestingValues.integer(rr) : rr.nextInt(6);
            if (t.getDimsCount() == 0 || rr.nextInt(4) == 0) {
                t.addDims(v);
                return "dimension " + v + " added to " + t.getName();
            }
            int d = rr.nextInt(t.getDimsCount());
            t.setDims(d, v);
            return "dimension " + d + " of " + t.getName() + " set to " + v;
        });
    }

    private static Mutation initializerData(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            GraphProto.Builder g = m.getGraphBuilder();
            if (g.getInitializerCount() == 0) {
                return null;
            }
            TensorProto.Builder t = g.getInitializerBuilder(rr.nextInt(g.getInitializerCount()));
            switch (rr.nextInt(4)) {
                case 0 -> {
                    int type = List.of(0, 1, 2, 6, 7, 9, 10, 11, 16, 17, 8, 99).get(rr.nextInt(12));
                    t.setDataType(type);
                    return t.getName() + " data type set to " + type;
                }
                case 1 -> {
                    ByteString raw = t.getRawData();
                    int cut = raw.isEmpty() ? 0 : rr.nextInt(raw.size());
                    t.setRawData(raw.substring(0, cut));
                    return t.getName() + " raw data cut to " + cut + " bytes";
                }
                case 2 -> {
                    t.addFloatData(1.5f).addInt64Data(3);
                    return t.getName() + " given typed data too";
                }
                default -> {
                    t.clearRawData().clearFloatData().clearInt64Data();
                    return t.getName() + " data removed";
                }
            }
        });
    }

    /** External-data entries: locations that try to leave the folder, offsets and lengths at the edges, keys twice. */
    private static Mutation externalData(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            GraphProto.Builder g = m.getGraphBuilder();
            if (g.getInitializerCount() == 0) {
                return null;
            }
            TensorProto.Builder t = g.getInitializerBuilder(rr.nextInt(g.getInitializerCount()));
            if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
                t.clearRawData().clearFloatData().clearInt64Data().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(entry("location", EXTERNAL));
                return t.getName() + " moved to external data";
            }
            String key = EXTERNAL_KEYS.get(rr.nextInt(EXTERNAL_KEYS.size()));
            String value = key.equals("location") ? LOCATIONS.get(rr.nextInt(LOCATIONS.size()))
                    : Long.toString(rr.nextBoolean() ? InterestingValues.integer(rr) : rr.nextInt(70));
            int at = -1;
            for (int i = 0; i < t.getExternalDataCount(); i++) {
                if (t.getExternalData(i).getKey().equals(key)) {
                    at = i;
                }
            }
            if (at < 0 || rr.nextInt(5) == 0) {
                t.addExternalData(entry(key, value));
            } else {
                t.setExternalData(at, entry(key, value));
            }
            return t.getName() + " external " + key + " = '" + value + "'";
        });
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    private static Mutation inputShape(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            GraphProto.Builder g = m.getGraphBuilder();
            if (g.getInputCount() == 0) {
                return null;
            }
            TensorShapeProto.Builder s = g.getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
            if (s.getDimCount() == 0) {
                return null;
            }
            int d = rr.nextInt(s.getDimCount());
            switch (rr.nextInt(4)) {
                case 0 -> s.getDimBuilder(d).setDimParam("batch");
                case 1 -> s.removeDim(d);
                case 2 -> s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(rr.nextInt(4)));
                default -> s.getDimBuilder(d).setDimValue(rr.nextBoolean() ? InterestingValues.integer(rr) : rr.nextInt(9));
            }
            return "input dimension " + d + " changed";
        });
    }

    private static Mutation opset(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            if (m.getOpsetImportCount() == 0) {
                return null;
            }
            long v = rr.nextInt(3) == 0 ? InterestingValues.integer(rr) : 9 + rr.nextInt(15);
            m.getOpsetImportBuilder(0).setVersion(v);
            return "opset set to " + v;
        });
    }

    private static Mutation graphOutput(byte[] in, RandomGenerator r) {
        return edit(in, r, (m, rr) -> {
            GraphProto.Builder g = m.getGraphBuilder();
            if (g.getOutputCount() == 0 || g.getNodeCount() == 0 || g.getInputCount() == 0) {
                return null;
            }
            NodeProto n = g.getNode(rr.nextInt(g.getNodeCount()));
            String to = rr.nextInt(4) == 0 || n.getOutputCount() == 0 ? g.getInput(0).getName() : n.getOutput(0);
            g.getOutputBuilder(0).setName(to);
            return "graph output set to '" + to + "'";
        });
    }

    /**
     * Reads the metadata (Predictor.load does, before the model), then loads from a private folder
     * holding the external data file and runs one batch of 2 on the reference ops.
     */
    @Override
    public void load(Path file, Path scratch) throws IOException {
        Path folder = Files.createDirectories(scratch.resolve("onnx"));
        Files.write(folder.resolve(EXTERNAL), externalData());
        Path model = Files.copy(file, folder.resolve("model.onnx"), StandardCopyOption.REPLACE_EXISTING);
        OnnxException metadataRefused = null;
        try {
            OnnxFile.metadata(model);
        } catch (OnnxException e) { // the load below is still tried: its findings matter more
            metadataRefused = e;
        }
        // Tight limits: a fuzzed graph may describe layers whose activations would need gigabytes at run time.
        try (Model m = OnnxFile.load(model, new ModelFile.Limits(1 << 20, 1 << 20)); Ops ops = new ReferenceOps();
                Plan plan = m.compileForInference(ops, 2)) {
            m.summary();
            plan.input().fill(0.5f);
            plan.forward(false);
        }
        if (metadataRefused != null) {
            throw metadataRefused;
        }
    }

    @Override
    public Class<? extends IOException> rejection() {
        return OnnxException.class;
    }
}
