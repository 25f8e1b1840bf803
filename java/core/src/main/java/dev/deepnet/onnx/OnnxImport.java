package dev.deepnet.onnx;

import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.BatchNorm2d;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.nn.Parameter;
import dev.deepnet.onnx.internal.OnnxProto.GraphProto;
import dev.deepnet.onnx.internal.OnnxProto.ModelProto;
import dev.deepnet.onnx.internal.OnnxProto.NodeProto;
import dev.deepnet.onnx.internal.OnnxProto.OperatorSetIdProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorShapeProto;
import dev.deepnet.onnx.internal.OnnxProto.TypeProto;
import dev.deepnet.onnx.internal.OnnxProto.ValueInfoProto;
import dev.deepnet.ops.BatchNormSpec;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.Activation;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX graph turned into deepnet layers in two passes. {@link #plan} walks the nodes in order
 * and lets each op's converter ({@link OnnxOps}) check its attributes and inputs and say which
 * layer it becomes; every shape is computed for one sample, every parameter's source tensor is
 * checked to hold its values, and the {@link ModelFile.Limits} are applied — all before a tensor
 * is allocated. {@link #build} then makes the layers and copies the weights in.
 *
 * <p>Values of the graph are variables (the graph input, or a layer's output: node ids as in
 * {@link Model#nodes()}) or constants (initializers and Constant nodes). Constants are only ever
 * a layer's parameters or an op's settings (a Reshape's shape, a Dropout's ratio): deepnet does
 * not compute on them.
 */
final class OnnxImport {

    static final int MIN_OPSET = 11;
    static final int MAX_OPSET = 21;

    /** A value of the graph. */
    sealed interface Value permits Variable, Constant {}

    /**
     * A value that flows from the graph input: the output of node {@code id} (0: the graph input),
     * ONNX value {@code name}, shaped {@code shape} for one sample (batch 1).
     */
    record Variable(int id, String name, Shape shape) implements Value {}

    record Constant(Initializer tensor) implements Value {}

    /** What a layer's parameter is filled from: a constant as it is, transposed (2-D), or one value everywhere; scaled. */
    record Source(Initializer tensor, Fill fill, float scale) {
        enum Fill { AS_IS, TRANSPOSED, BROADCAST }

        static Source of(Initializer t) {
            return new Source(t, Fill.AS_IS, 1f);
        }
    }

    /** The deepnet layer a node (or a fused run of nodes) becomes. */
    sealed interface Kind permits DenseKind, ConvKind, BatchNormKind, Stateless {}

    record DenseKind(int in, int out) implements Kind {}

    /** {@code in}: the input's channels, all groups together (the weight is (out, in / groups, kH, kW)). */
    record ConvKind(int in, int out, int kernelH, int kernelW, Conv2dSpec spec) implements Kind {}

    /** Its weight and bias are the scale and B inputs; its buffers the running mean and variance. */
    record BatchNormKind(int channels, BatchNormSpec spec) implements Kind {}

    /** A layer that holds no memory: made while planning, to be asked its output shape. */
    record Stateless(Layer layer) implements Kind {}

    /** A layer to be made: its kind, inputs (node ids), output shape and parameter sources. */
    static final class Planned {
        final String name;
        final Kind kind;
        final int[] inputs;
        String output; // the ONNX value it computes: its node's output, or that of the last op folded into it
        final Shape shape;
        final Source weight; // null: no parameters (stateless)
        Source bias; // null: zeros (a bias-free Conv or a MatMul, until an Add folds one in)
        List<Source> buffers = List.of(); // the layer's buffers, in order (batch norm's running statistics)
        Activation activation = Activation.LINEAR; // a dense layer's, when the Relu, Sigmoid or Tanh after it is folded in

        Planned(String name, Kind kind, int[] inputs, String output, Shape shape, Source weight, Source bias) {
            this.name = name;
            this.kind = kind;
            this.inputs = inputs;
            this.output = output;
            this.shape = shape;
            this.weight = weight;
            this.bias = bias;
        }

        Layer create() {
            return switch (kind) {
                case DenseKind d -> new Dense(d.in(), d.out(), activation);
                case ConvKind c -> new Conv2d(c.in(), c.out(), c.kernelH(), c.kernelW(), c.spec());
                case BatchNormKind b -> new BatchNorm2d(b.channels(), b.spec());
                case Stateless s -> s.layer();
            };
        }
    }

    private final Path folder;
    private final ModelFile.Limits limits;
    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, Integer> consumers = new HashMap<>();
    private final List<Planned> layers = new ArrayList<>();
    private final Set<String> layerNames = new HashSet<>();
    private Shape sample;
    private long fixedBatch; // the graph input's batch dimension when it is a number, else 0 (dynamic)
    private int output;
    private long parameterCount;
    private long activationCount;

    private OnnxImport(Path folder, ModelFile.Limits limits) {
        this.folder = folder;
        this.limits = limits;
    }

    /** Checks the whole model and plans its layers; allocates no tensor. {@code folder} holds any external data. */
    static OnnxImport plan(ModelProto model, Path folder, ModelFile.Limits limits) throws InvalidOnnx {
        OnnxImport imp = new OnnxImport(folder, limits);
        imp.read(model);
        return imp;
    }

    private void read(ModelProto model) throws InvalidOnnx {
        int opset = opset(model);
        if (!model.hasGraph()) {
            throw new InvalidOnnx("holds no graph");
        }
        GraphProto g = model.getGraph();
        if (g.getSparseInitializerCount() > 0) {
            throw new InvalidOnnx("sparse initializers are not supported");
        }
        for (TensorProto t : g.getInitializerList()) {
            String what = "initializer '" + Initializer.abbreviate(t.getName()) + "'";
            if (t.getName().isEmpty()) {
                throw new InvalidOnnx("an initializer has no name");
            }
            if (values.put(t.getName(), new Constant(Initializer.of(t, what, folder))) != null) {
                throw new InvalidOnnx(what + " is given twice");
            }
        }
        input(g);
        if (g.getOutputCount() != 1) {
            throw new InvalidOnnx("the graph has " + g.getOutputCount() + " outputs; deepnet models have exactly one");
        }
        String out = g.getOutput(0).getName();
        for (NodeProto n : g.getNodeList()) {
            for (String in : n.getInputList()) {
                if (!in.isEmpty()) {
                    consumers.merge(in, 1, Integer::sum);
                }
            }
        }
        consumers.merge(out, 1, Integer::sum);
        rejectUnknownOps(g, opset);
        for (int i = 0; i < g.getNodeCount(); i++) {
            OnnxNode node = OnnxNode.of(g.getNode(i), i, opset);
            OnnxOps.converter(node.opType()).convert(node, this);
            node.checkAllRead();
        }
        Value result = values.get(out);
        if (result == null) {
            throw new InvalidOnnx("the graph output '" + Initializer.abbreviate(out) + "' is computed by no node");
        }
        if (!(result instanceof Variable a) || a.id() == 0) {
            throw new InvalidOnnx("the graph output '" + Initializer.abbreviate(out) + "' is " + (result instanceof Constant
                    ? "a constant" : "the graph input itself") + "; deepnet models compute their output with at least one layer");
        }
        output = a.id();
    }

    /** The default domain's opset, within what deepnet reads. */
    private static int opset(ModelProto model) throws InvalidOnnx {
        long opset = -1;
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                if (opset >= 0) {
                    throw new InvalidOnnx("imports the default ONNX opset twice");
                }
                opset = o.getVersion();
            }
        }
        if (opset < 0) {
            throw new InvalidOnnx("imports no version of the default ONNX opset (opset_import)");
        }
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new InvalidOnnx("uses opset " + opset + "; deepnet reads opsets " + MIN_OPSET + " to " + MAX_OPSET
                    + " (re-export the model with one of them)");
        }
        return (int) opset;
    }

    /** The one graph input that is not an initializer: float, (batch, fixed dimensions...). */
    private void input(GraphProto g) throws InvalidOnnx {
        ValueInfoProto input = null;
        for (ValueInfoProto v : g.getInputList()) {
            if (values.containsKey(v.getName())) {
                continue; // before IR version 4 initializers are listed as inputs too
            }
            if (input != null) {
                throw new InvalidOnnx("the graph has more than one input ('" + Initializer.abbreviate(input.getName()) + "', '"
                        + Initializer.abbreviate(v.getName()) + "'); deepnet models have exactly one");
            }
            input = v;
        }
        if (input == null) {
            throw new InvalidOnnx("the graph has no input that is not an initializer");
        }
        String what = "graph input '" + Initializer.abbreviate(input.getName()) + "'";
        if (input.getName().isEmpty()) {
            throw new InvalidOnnx("the graph input has no name");
        }
        TypeProto type = input.getType();
        if (!type.hasTensorType()) {
            throw new InvalidOnnx(what + " is not a tensor");
        }
        if (type.getTensorType().getElemType() != Initializer.FLOAT) {
            throw new InvalidOnnx(what + " is " + Initializer.typeName(type.getTensorType().getElemType()) + "; deepnet computes in FLOAT");
        }
        if (!type.getTensorType().hasShape()) {
            throw new InvalidOnnx(what + " has no shape; deepnet needs every dimension but the batch fixed");
        }
        TensorShapeProto shape = type.getTensorType().getShape();
        if (shape.getDimCount() < 2 || shape.getDimCount() > 8) {
            throw new InvalidOnnx(what + " has rank " + shape.getDimCount() + "; deepnet needs (batch, ...) of rank 2 to 8");
        }
        TensorShapeProto.Dimension batch = shape.getDim(0);
        fixedBatch = batch.hasDimValue() ? batch.getDimValue() : 0;
        if (fixedBatch < 0) {
            throw new InvalidOnnx(what + ": batch dimension " + fixedBatch);
        }
        long[] dims = new long[shape.getDimCount() - 1];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            TensorShapeProto.Dimension d = shape.getDim(i + 1);
            if (!d.hasDimValue()) {
                throw new InvalidOnnx(what + ": dimension " + (i + 1) + " is "
                        + (d.hasDimParam() ? "symbolic ('" + Initializer.abbreviate(d.getDimParam()) + "')" : "unknown")
                        + "; deepnet needs every dimension but the batch fixed");
            }
            dims[i] = d.getDimValue();
            if (dims[i] < 1) {
                throw new InvalidOnnx(what + ": dimension " + (i + 1) + " is " + dims[i]);
            }
            elements = Math.multiplyHigh(elements, dims[i]) != 0 || elements * dims[i] < 0 ? Long.MAX_VALUE : elements * dims[i];
        }
        if (elements > limits.maxActivations()) {
            throw new InvalidOnnx(what + " holds more than the limit of " + limits.maxActivations() + " elements per sample ("
                    + ModelFile.Limits.MAX_ACTIVATIONS_PROPERTY + ")");
        }
        sample = Shape.of(dims);
        activationCount = elements;
        values.put(input.getName(), new Variable(0, input.getName(), sample.batched(1)));
    }

    /** One error for every op deepnet does not know, naming the first node and counting the others by op type. */
    private static void rejectUnknownOps(GraphProto g, int opset) throws InvalidOnnx {
        String first = null;
        Map<String, Integer> others = new LinkedHashMap<>();
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            String domain = n.getDomain();
            boolean known = (domain.isEmpty() || domain.equals("ai.onnx")) && OnnxOps.supports(n.getOpType());
            if (known) {
                continue;
            }
            String op = (domain.isEmpty() ? "" : domain + ".") + n.getOpType();
            if (first == null) {
                first = "node '" + Initializer.abbreviate(n.getName().isEmpty() ? "#" + i : n.getName()) + "' ("
                        + Initializer.abbreviate(op) + ", opset " + opset + "): op " + Initializer.abbreviate(op) + " is not supported";
            } else if (others.size() < 20) {
                others.merge(Initializer.abbreviate(op), 1, Integer::sum);
            }
        }
        if (first != null) {
            StringBuilder sb = new StringBuilder(first);
            if (!others.isEmpty()) {
                sb.append("; nor are");
                others.forEach((op, count) -> sb.append(' ').append(op).append(" (").append(count).append(count == 1 ? " node)" : " nodes)"));
            }
            sb.append(" (deepnet reads ").append(String.join(", ", OnnxOps.supported())).append(')');
            throw new InvalidOnnx(sb.toString());
        }
    }

    // ---------------------------------------------------------------- what converters use

    /** Input {@code i} of {@code n}, which must be present; the value it names must exist. */
    Value value(OnnxNode n, int i) throws InvalidOnnx {
        String name = n.input(i);
        if (name.isEmpty()) {
            throw n.invalid("input " + i + " is missing");
        }
        Value v = values.get(name);
        if (v == null) {
            throw n.invalid("input " + i + " '" + Initializer.abbreviate(name)
                    + "' is not the graph input, an initializer, or the output of an earlier node");
        }
        return v;
    }

    /** Input {@code i}, which must be a variable (flow from the graph input). */
    Variable variable(OnnxNode n, int i) throws InvalidOnnx {
        Value v = value(n, i);
        if (!(v instanceof Variable a)) {
            throw n.unsupported("input " + i + " '" + Initializer.abbreviate(n.input(i)) + "' being a constant (deepnet computes on "
                    + "what flows from the graph input and folds no constants)");
        }
        return a;
    }

    /** Input {@code i} as a constant, or null when the optional input is left out. */
    Initializer constant(OnnxNode n, int i, String role) throws InvalidOnnx {
        if (n.input(i).isEmpty()) {
            return null;
        }
        Value v = value(n, i);
        if (!(v instanceof Constant c)) {
            throw n.unsupported(role + " computed in the graph (input " + i + " '" + Initializer.abbreviate(n.input(i))
                    + "'; it must be an initializer or a Constant)");
        }
        return c.tensor();
    }

    /** How many node inputs and graph outputs read value {@code name}. */
    int consumers(String name) {
        return consumers.getOrDefault(name, 0);
    }

    /**
     * Whether {@code a} is the output of a dense layer or convolution (or of the last op folded into
     * one) that only the node asking reads: that node's op may then fold into the layer.
     */
    boolean foldable(Variable a) {
        Planned p = producer(a);
        return p != null && p.weight != null && p.output.equals(a.name()) && consumers(a.name()) == 1;
    }

    /** Folds node {@code n} into the layer computing {@code a}: the node's output is now the layer's. */
    void folded(OnnxNode n, Variable a) throws InvalidOnnx {
        producer(a).output = n.output(0);
        define(n, 0, new Variable(a.id(), n.output(0), a.shape()));
    }

    /** The planned layer that computes {@code a}, or null for the graph input. */
    Planned producer(Variable a) {
        return a.id() == 0 ? null : layers.get(a.id() - 1);
    }

    /** Output {@code i} of {@code n} is {@code v} (an Identity, a constant, a folded Add). */
    void define(OnnxNode n, int i, Value v) throws InvalidOnnx {
        String name = n.output(i);
        if (name.isEmpty()) {
            throw n.invalid("output " + i + " has no name");
        }
        if (values.putIfAbsent(name, v) != null) {
            throw n.invalid("output '" + Initializer.abbreviate(name) + "' is already a value of the graph (values are defined once)");
        }
    }

    /** Throws unless outputs from {@code from} on are absent or read by nothing (MaxPool's indices, Dropout's mask). */
    void unusedOutputs(OnnxNode n, int from, String what) throws InvalidOnnx {
        for (int i = from; i < n.outputCount(); i++) {
            if (!n.output(i).isEmpty() && consumers(n.output(i)) > 0) {
                throw n.unsupported("output " + i + " (" + what + ") being used");
            }
        }
    }

    /** A stateless layer on {@code inputs}; defines the node's output 0. */
    void layer(OnnxNode n, Layer layer, Variable... inputs) throws InvalidOnnx {
        layer(n, new Stateless(layer), null, null, inputs);
    }

    /** A layer of {@code kind} with these parameter sources on {@code inputs}; defines the node's output 0. */
    Planned layer(OnnxNode n, Kind kind, Source weight, Source bias, Variable... inputs) throws InvalidOnnx {
        if (n.outputCount() < 1) {
            throw n.invalid("has no output");
        }
        List<Shape> in = new ArrayList<>(inputs.length);
        int[] ids = new int[inputs.length];
        for (int k = 0; k < inputs.length; k++) {
            in.add(inputs[k].shape());
            ids[k] = inputs[k].id();
            for (int j = 0; j < k; j++) {
                if (ids[j] == ids[k]) {
                    throw n.unsupported("the same value as two inputs");
                }
            }
        }
        Shape shape;
        try {
            shape = switch (kind) {
                case DenseKind d -> {
                    Shape x = in.get(0);
                    if (x.rank() != 2 || x.dim(1) != d.in()) {
                        throw new IllegalArgumentException("expects input (N, " + d.in() + ") but got " + perSample(x));
                    }
                    yield Shape.of(x.dim(0), d.out());
                }
                case ConvKind c -> c.spec().outputShape(in.get(0), Shape.of(c.out(), c.in() / c.spec().groups(), c.kernelH(), c.kernelW()));
                case BatchNormKind b -> {
                    Shape x = in.get(0);
                    if (x.rank() != 4 || x.dim(1) != b.channels()) {
                        throw new IllegalArgumentException("expects input (N, " + b.channels() + ", H, W) but got " + perSample(x));
                    }
                    yield x;
                }
                case Stateless s -> s.layer().outputShape(in);
            };
        } catch (IllegalArgumentException e) {
            throw n.invalid(String.valueOf(e.getMessage()).replaceFirst("^[a-z]+: ", ""));
        }
        if (weight != null) {
            long count = weight.tensor().elements() + switch (kind) { // the bias's and any buffers' too
                case DenseKind d -> d.out();
                case ConvKind c -> c.out();
                case BatchNormKind b -> 3L * b.channels();
                case Stateless st -> 0;
            };
            parameterCount = saturatingAdd(parameterCount, count);
            if (parameterCount > limits.maxParameters()) {
                throw n.invalid("brings the model to more than the limit of " + limits.maxParameters() + " parameters ("
                        + ModelFile.Limits.MAX_PARAMETERS_PROPERTY + ")");
            }
        }
        activationCount = saturatingAdd(activationCount, shape.size());
        if (activationCount > limits.maxActivations()) {
            throw n.invalid("output " + perSample(shape) + " brings one sample's activations to more than the limit of "
                    + limits.maxActivations() + " elements (" + ModelFile.Limits.MAX_ACTIVATIONS_PROPERTY + ")");
        }
        Planned p = new Planned(layerName(n), kind, ids, n.output(0), shape, weight, bias);
        layers.add(p);
        define(n, 0, new Variable(layers.size(), n.output(0), shape));
        return p;
    }

    /** The model file's folder: external data resolves against it. */
    Path folder() {
        return folder;
    }

    /** The graph input's batch dimension when it is a fixed number, else 0. */
    long fixedBatch() {
        return fixedBatch;
    }

    /** A deepnet layer name from the node's: other characters become '_', duplicates get a suffix. */
    private String layerName(OnnxNode n) {
        String base = n.givenName().replaceAll("[^A-Za-z0-9_.]", "_").replaceAll("^_+", "");
        if (base.length() > 80) {
            base = base.substring(0, 80);
        }
        if (base.isEmpty()) {
            base = n.opType().replaceAll("[^A-Za-z0-9]", "").toLowerCase(Locale.ROOT) + (layers.size() + 1);
            if (base.length() > 80 || base.equals(String.valueOf(layers.size() + 1))) {
                base = "layer" + (layers.size() + 1);
            }
        }
        String name = base;
        for (int k = 2; !layerNames.add(name); k++) {
            name = base + "_" + k;
        }
        return name;
    }

    static String perSample(Shape s) {
        long[] d = s.dims();
        StringBuilder sb = new StringBuilder("(N");
        for (int i = 1; i < d.length; i++) {
            sb.append(", ").append(d[i]);
        }
        return sb.append(')').toString();
    }

    private static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    // ---------------------------------------------------------------- building

    /**
     * Makes the layers and the model, and copies every parameter from its source. On any failure
     * every layer made is closed before the exception leaves.
     */
    Model build() throws InvalidOnnx {
        List<Layer> made = new ArrayList<>(layers.size());
        try {
            Model.Builder b = Model.builder(sample);
            List<Node> nodes = new ArrayList<>(layers.size() + 1);
            nodes.add(b.input());
            for (Planned p : layers) {
                Layer layer = p.create();
                made.add(layer);
                layer.named(p.name);
                Node[] inputs = new Node[p.inputs.length];
                for (int k = 0; k < inputs.length; k++) {
                    inputs[k] = nodes.get(p.inputs[k]);
                }
                nodes.add(b.add(layer, inputs));
            }
            Model model = b.buildForLoading(nodes.get(output)); // every parameter is read from the file next
            for (int i = 0; i < layers.size(); i++) {
                Planned p = layers.get(i);
                if (p.weight != null) {
                    List<Parameter> params = made.get(i).parameters(); // weight, bias
                    fill(params.get(0).value(), p.weight);
                    fill(params.get(1).value(), p.bias);
                    List<Parameter> buffers = made.get(i).buffers();
                    for (int k = 0; k < p.buffers.size(); k++) {
                        fill(buffers.get(k).value(), p.buffers.get(k));
                    }
                }
            }
            return model;
        } catch (InvalidOnnx | RuntimeException | Error e) {
            for (Layer l : made) {
                try {
                    l.close();
                } catch (RuntimeException | Error c) {
                    e.addSuppressed(c);
                }
            }
            throw e;
        }
    }

    /** Fills a freshly made parameter from its source (zeros when there is none). */
    private static void fill(Tensor target, Source source) throws InvalidOnnx {
        if (source == null) {
            target.fill(0f);
            return;
        }
        switch (source.fill()) {
            case AS_IS -> source.tensor().copyTo(target.segment());
            case BROADCAST -> target.fill(source.tensor().floats().get(0));
            case TRANSPOSED -> { // source (rows, cols) -> target (cols, rows)
                FloatBuffer from = source.tensor().floats();
                long[] d = source.tensor().dims();
                int rows = Math.toIntExact(d[0]);
                int cols = Math.toIntExact(d[1]);
                float[] to = new float[Math.multiplyExact(rows, cols)];
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        to[c * rows + r] = from.get(r * cols + c);
                    }
                }
                target.copyFrom(to);
            }
        }
        if (source.scale() != 1f) {
            for (long i = 0; i < target.size(); i++) {
                target.setFlat(i, target.getFlat(i) * source.scale());
            }
        }
    }
}
