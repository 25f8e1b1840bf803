package dev.deepnet.onnx;

import com.google.protobuf.UnsafeByteOperations;
import dev.deepnet.nn.AdaptiveAvgPool2d;
import dev.deepnet.nn.Add;
import dev.deepnet.nn.AvgPool2d;
import dev.deepnet.nn.BatchNorm2d;
import dev.deepnet.nn.Clip;
import dev.deepnet.nn.Concat;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Dropout;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Lrn;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.nn.Parameter;
import dev.deepnet.nn.Relu;
import dev.deepnet.nn.Sigmoid;
import dev.deepnet.nn.Softmax;
import dev.deepnet.nn.Tanh;
import dev.deepnet.onnx.internal.OnnxProto.AttributeProto;
import dev.deepnet.onnx.internal.OnnxProto.AttributeProto.AttributeType;
import dev.deepnet.onnx.internal.OnnxProto.GraphProto;
import dev.deepnet.onnx.internal.OnnxProto.ModelProto;
import dev.deepnet.onnx.internal.OnnxProto.NodeProto;
import dev.deepnet.onnx.internal.OnnxProto.OperatorSetIdProto;
import dev.deepnet.onnx.internal.OnnxProto.StringStringEntryProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorShapeProto;
import dev.deepnet.onnx.internal.OnnxProto.TypeProto;
import dev.deepnet.onnx.internal.OnnxProto.ValueInfoProto;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.LrnSpec;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A deepnet model as an ONNX graph at opset {@value #OPSET} (IR version {@value #IR_VERSION}): one
 * node per layer (a dense layer with a nonlinearity is a Gemm and its activation), the input
 * {@value #INPUT} and the output {@value #OUTPUT} with a symbolic batch dimension {@code N},
 * parameters as initializers named like a PyTorch {@code state_dict} ({@code conv1.weight}).
 * Initializers point at the parameters' own memory (no copy): the model must stay open until the
 * graph is written.
 */
final class OnnxExport {
    private OnnxExport() {}

    static final int OPSET = 17;
    static final long IR_VERSION = 8;
    static final String INPUT = "input";
    static final String OUTPUT = "output";

    /** The ONNX model; with {@code external} not null, every parameter's bytes go there instead (see {@link External}). */
    static ModelProto toProto(Model model, External external) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("ONNX export writes tensors as they lie in memory, which needs a little-endian machine");
        }
        GraphProto.Builder g = GraphProto.newBuilder().setName("deepnet");
        Shape[] shapes = model.shapes(1);
        g.addInput(valueInfo(INPUT, shapes[0]));
        Set<String> names = new HashSet<>(List.of(INPUT, OUTPUT));
        String[] values = new String[model.nodes().size()];
        values[0] = INPUT;
        for (Node n : model.nodes()) {
            if (!n.isInput()) {
                values[n.index()] = n == model.output() ? OUTPUT : unique(names, n.layer().name());
            }
        }
        for (Node n : model.nodes()) {
            if (n.isInput()) {
                continue;
            }
            List<String> inputs = new ArrayList<>();
            for (Node i : n.inputs()) {
                inputs.add(values[i.index()]);
            }
            layer(g, n.layer(), inputs, shapes[n.inputs().get(0).index()], values[n.index()], names, external);
        }
        g.addOutput(valueInfo(OUTPUT, shapes[model.output().index()]));
        return ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("deepnet").setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET)).build();
    }

    /** Throws IllegalArgumentException, naming the layer, unless every layer has an ONNX form. */
    static void checkExportable(Model model) {
        Shape[] shapes = model.shapes(1);
        for (Node n : model.nodes()) {
            if (n.isInput()) {
                continue;
            }
            Layer l = n.layer();
            switch (l) {
                case AdaptiveAvgPool2d a -> {
                    if (!global(a) && a.equalWindows(shapes[n.inputs().get(0).index()]) == null) {
                        throw new IllegalArgumentException("layer " + l.name() + " (adaptive average pooling of "
                                + shapes[n.inputs().get(0).index()] + " to " + a.outputH() + "x" + a.outputW()
                                + ") has unequal bins, which no ONNX op computes");
                    }
                }
                case Dense d -> { }
                case Conv2d c -> { }
                case BatchNorm2d b -> { }
                case MaxPool2d m -> { }
                case AvgPool2d a -> { }
                case Lrn r -> { }
                case Dropout d -> { }
                case Clip c -> { }
                case Flatten f -> { }
                case Relu r -> { }
                case Sigmoid s -> { }
                case Tanh t -> { }
                case Softmax s -> { }
                case Add a -> { }
                case Concat c -> { }
                default -> throw new IllegalArgumentException("layer " + l.name() + " (" + l.getClass().getName()
                        + ") has no ONNX form that deepnet writes");
            }
        }
    }

    private static boolean global(AdaptiveAvgPool2d a) {
        return a.outputH() == 1 && a.outputW() == 1;
    }

    /** {@code x}: the (first) input's shape, for one sample. */
    private static void layer(GraphProto.Builder g, Layer l, List<String> in, Shape x, String out, Set<String> names,
            External external) {
        String name = l.name();
        switch (l) {
            case AdaptiveAvgPool2d a when global(a) -> g.addNode(node("GlobalAveragePool", name, in, out));
            case AdaptiveAvgPool2d a -> g.addNode(pool(node("AveragePool", name, in, out), a.equalWindows(x))); // bins checked
            case Dense d -> {
                String w = initializer(g, names, name + ".weight", d.weight(), external);
                String b = initializer(g, names, name + ".bias", d.bias(), external);
                String linear = d.activation() == Activation.LINEAR ? out : unique(names, name + ":linear");
                g.addNode(node("Gemm", name, List.of(in.get(0), w, b), linear).addAttribute(integer("transB", 1)));
                if (d.activation() != Activation.LINEAR) {
                    g.addNode(node(activation(d.activation()), name + ":" + d.activation().name().toLowerCase(Locale.ROOT),
                            List.of(linear), out));
                }
            }
            case Conv2d c -> {
                Shape ws = c.weight().shape();
                Conv2dSpec s = c.spec();
                String w = initializer(g, names, name + ".weight", c.weight(), external);
                String b = initializer(g, names, name + ".bias", c.bias(), external);
                g.addNode(node("Conv", name, List.of(in.get(0), w, b), out)
                        .addAttribute(ints("kernel_shape", ws.dim(2), ws.dim(3)))
                        .addAttribute(ints("strides", s.strideH(), s.strideW()))
                        .addAttribute(ints("pads", s.padTop(), s.padLeft(), s.padBottom(), s.padRight()))
                        .addAttribute(ints("dilations", s.dilationH(), s.dilationW()))
                        .addAttribute(integer("group", s.groups())));
            }
            case BatchNorm2d b -> {
                List<String> inputs = new ArrayList<>(List.of(in.get(0)));
                for (Parameter p : List.of(b.weight(), b.bias(), b.runningMean(), b.runningVariance())) {
                    inputs.add(initializer(g, names, name + "." + p.name(), p, external));
                }
                g.addNode(node("BatchNormalization", name, inputs, out).addAttribute(real("epsilon", b.spec().epsilon()))
                        .addAttribute(real("momentum", 1 - b.spec().momentum()))); // ONNX weighs the running value
            }
            case MaxPool2d m -> g.addNode(pool(node("MaxPool", name, in, out), m.spec()));
            case AvgPool2d a -> g.addNode(pool(node("AveragePool", name, in, out), a.spec())
                    .addAttribute(integer("count_include_pad", a.spec().countPadding() ? 1 : 0)));
            case Lrn r -> {
                LrnSpec s = r.spec();
                g.addNode(node("LRN", name, in, out).addAttribute(integer("size", s.size())).addAttribute(real("alpha", s.alpha()))
                        .addAttribute(real("beta", s.beta())).addAttribute(real("bias", s.k())));
            }
            case Dropout d -> g.addNode(node("Dropout", name, List.of(in.get(0), scalar(g, names, name + ".ratio",
                    (float) d.probability())), out));
            case Clip c -> g.addNode(node("Clip", name, List.of(in.get(0), scalar(g, names, name + ".min", c.min()),
                    scalar(g, names, name + ".max", c.max())), out));
            case Flatten f -> g.addNode(node("Flatten", name, in, out).addAttribute(integer("axis", 1)));
            case Relu r -> g.addNode(node("Relu", name, in, out));
            case Sigmoid s -> g.addNode(node("Sigmoid", name, in, out));
            case Tanh t -> g.addNode(node("Tanh", name, in, out));
            case Softmax s -> g.addNode(node("Softmax", name, in, out).addAttribute(integer("axis", 1))); // opset 13 on: this axis alone
            case Add a -> g.addNode(node(in.size() == 2 ? "Add" : "Sum", name, in, out));
            case Concat c -> g.addNode(node("Concat", name, in, out).addAttribute(integer("axis", 1)));
            default -> throw new IllegalArgumentException("layer " + name + " (" + l.getClass().getName()
                    + ") has no ONNX form that deepnet writes");
        }
    }

    private static String activation(Activation a) {
        return switch (a) {
            case RELU -> "Relu";
            case SIGMOID -> "Sigmoid";
            case TANH -> "Tanh";
            case LINEAR -> throw new IllegalArgumentException("a linear dense layer has no activation node");
        };
    }

    private static NodeProto.Builder pool(NodeProto.Builder node, Pool2dSpec s) {
        return node.addAttribute(ints("kernel_shape", s.kernelH(), s.kernelW()))
                .addAttribute(ints("strides", s.strideH(), s.strideW()))
                .addAttribute(ints("pads", s.padTop(), s.padLeft(), s.padBottom(), s.padRight()))
                .addAttribute(integer("ceil_mode", s.ceilMode() ? 1 : 0));
    }

    /** A float scalar initializer (a ratio, a bound) named {@code name} (made unique); returns the name. */
    private static String scalar(GraphProto.Builder g, Set<String> names, String name, float value) {
        String unique = unique(names, name);
        g.addInitializer(TensorProto.newBuilder().setName(unique).setDataType(Initializer.FLOAT).addFloatData(value));
        return unique;
    }

    /** Adds {@code p} as an initializer named {@code name} (made unique); returns the name. */
    private static String initializer(GraphProto.Builder g, Set<String> names, String name, Parameter p, External external) {
        String unique = unique(names, name);
        Tensor v = p.value();
        TensorProto.Builder t = TensorProto.newBuilder().setName(unique).setDataType(Initializer.FLOAT);
        for (long d : v.shape().dims()) {
            t.addDims(d);
        }
        ByteBuffer bytes = v.segment().asByteBuffer(); // row-major f32, little-endian: ONNX's raw_data as it is
        if (external == null) {
            t.setRawData(UnsafeByteOperations.unsafeWrap(bytes)); // no copy: read when the graph is written
        } else {
            long offset = external.add(bytes);
            t.setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", external.location()))
                    .addExternalData(entry("offset", Long.toString(offset)))
                    .addExternalData(entry("length", Long.toString(bytes.remaining())));
        }
        g.addInitializer(t);
        return unique;
    }

    /**
     * Where parameters go when they are written beside the model: one file ({@code location},
     * relative to the model's folder), the tensors one after the other at 64-byte aligned offsets.
     */
    static final class External {
        private final String location;
        private final WritableByteChannel out;
        private long written;

        External(String location, WritableByteChannel out) {
            this.location = location;
            this.out = out;
        }

        String location() {
            return location;
        }

        /** Writes {@code bytes} (after padding to a 64-byte offset); returns their offset in the file. */
        long add(ByteBuffer bytes) {
            try {
                long offset = (written + 63) / 64 * 64;
                writeFully(ByteBuffer.allocate((int) (offset - written)));
                writeFully(bytes.duplicate());
                written = offset + bytes.remaining();
                return offset;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void writeFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                out.write(b);
            }
        }
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    private static String unique(Set<String> names, String name) {
        String n = name;
        for (int k = 2; !names.add(n); k++) {
            n = name + ":" + k;
        }
        return n;
    }

    private static NodeProto.Builder node(String op, String name, List<String> inputs, String output) {
        return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(output);
    }

    private static AttributeProto integer(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(v).build();
    }

    private static AttributeProto real(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(v).build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    /** A float tensor (N, sample...) with a symbolic batch dimension. */
    private static ValueInfoProto valueInfo(String name, Shape batchOne) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        for (int i = 1; i < batchOne.rank(); i++) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(batchOne.dim(i)));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(Initializer.FLOAT).setShape(shape))).build();
    }
}
