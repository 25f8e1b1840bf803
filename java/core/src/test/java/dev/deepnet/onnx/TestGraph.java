package dev.deepnet.onnx;

import dev.deepnet.onnx.internal.OnnxProto.AttributeProto;
import dev.deepnet.onnx.internal.OnnxProto.AttributeProto.AttributeType;
import dev.deepnet.onnx.internal.OnnxProto.GraphProto;
import dev.deepnet.onnx.internal.OnnxProto.ModelProto;
import dev.deepnet.onnx.internal.OnnxProto.NodeProto;
import dev.deepnet.onnx.internal.OnnxProto.OperatorSetIdProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorShapeProto;
import dev.deepnet.onnx.internal.OnnxProto.TypeProto;
import dev.deepnet.onnx.internal.OnnxProto.ValueInfoProto;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * ONNX graphs written in tests with the protobuf builders, as another tool would write them:
 * {@code String y = g.node("Conv", List.of(g.input(), g.weights(4, 3, 3, 3)), ints("pads", 1, 1, 1, 1))}.
 * Weights are seeded uniform values in [-1, 1).
 */
public final class TestGraph {

    public static final String INPUT = "x";

    final int opset;
    public final GraphProto.Builder graph = GraphProto.newBuilder().setName("test");
    private final SplittableRandom random;
    private int values;

    /** A graph whose input is (N, sample...) with a symbolic batch. */
    public TestGraph(int opset, long seed, long... sample) {
        this.opset = opset;
        this.random = new SplittableRandom(seed);
        graph.addInput(valueInfo(INPUT, true, sample));
    }

    public String input() {
        return INPUT;
    }

    /** A FLOAT initializer of random values; returns its name. */
    public String weights(long... dims) {
        long n = Arrays.stream(dims).reduce(1, (a, b) -> a * b);
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return floats(v, dims);
    }

    /** A FLOAT initializer, stored as raw little-endian bytes. */
    public String floats(float[] values, long... dims) {
        String name = "w" + (this.values++);
        graph.addInitializer(tensor(name, values, dims));
        return name;
    }

    public static TensorProto tensor(String name, float[] values, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
        for (long d : dims) {
            t.addDims(d);
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float f : values) {
            b.putFloat(f);
        }
        return t.setRawData(com.google.protobuf.ByteString.copyFrom(b.array())).build();
    }

    /** A 1-D INT64 initializer (a shape), in the typed field. */
    public String int64s(long... values) {
        String name = "s" + (this.values++);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(values.length);
        for (long v : values) {
            t.addInt64Data(v);
        }
        graph.addInitializer(t);
        return name;
    }

    /** A node with one output; returns the output's name. */
    public String node(String op, List<String> inputs, AttributeProto... attributes) {
        return node(op, inputs, 1, attributes)[0];
    }

    /** A node with {@code outputs} outputs; returns their names. */
    public String[] node(String op, List<String> inputs, int outputs, AttributeProto... attributes) {
        String[] out = new String[outputs];
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase() + values).addAllInput(inputs);
        for (int i = 0; i < outputs; i++) {
            out[i] = "v" + (values++);
            n.addOutput(out[i]);
        }
        for (AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        graph.addNode(n);
        return out;
    }

    /** The model with {@code output} as the graph's output. */
    public ModelProto model(String output) {
        GraphProto g = graph.clone().addOutput(valueInfo(output, false)).build();
        return ModelProto.newBuilder().setIrVersion(irVersion(opset)).setProducerName("deepnet-test").setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
    }

    public byte[] bytes(String output) {
        return model(output).toByteArray();
    }

    /** The IR version that came with each opset (ONNX's versioning table). */
    public static long irVersion(int opset) {
        if (opset <= 11) {
            return 6;
        }
        if (opset <= 14) {
            return 7;
        }
        if (opset <= 18) {
            return 8;
        }
        return opset <= 20 ? 9 : 10;
    }

    public static ValueInfoProto valueInfo(String name, boolean batched, long... sample) {
        TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE);
        if (batched) {
            TensorShapeProto.Builder s = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
            for (long d : sample) {
                s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            }
            t.setShape(s);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(t)).build();
    }

    public static AttributeProto integer(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(v).build();
    }

    public static AttributeProto real(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(v).build();
    }

    public static AttributeProto string(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.STRING)
                .setS(com.google.protobuf.ByteString.copyFromUtf8(v)).build();
    }

    /** A tensor attribute of random values (a Constant's value), seeded by its dimensions. */
    public static AttributeProto tensorAttribute(String name, long... dims) {
        long n = Arrays.stream(dims).reduce(1, (a, b) -> a * b);
        SplittableRandom r = new SplittableRandom(n);
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.TENSOR).setT(tensor("", v, dims)).build();
    }

    public static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }
}
