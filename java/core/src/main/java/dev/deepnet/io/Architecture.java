package dev.deepnet.io;

import dev.deepnet.nn.BatchNorm2d;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.BatchNormSpec;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.tensor.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A model file's architecture read into plain values and checked as a whole — every field's type
 * and range, the graph, every node's output shape for one sample, every parameter's name and
 * shape, and the {@link ModelFile.Limits} — before a single tensor is allocated. Only
 * {@link #build()} allocates, and it is called once the file's tensors are known to fit.
 *
 * <p>Dense, convolution and batch normalisation layers allocate their parameters when constructed, so their shape
 * rules are restated here from their settings; every other layer holds no memory, so a fresh
 * instance answers with its own rules. {@link Model.Builder#build} checks the shapes again on the
 * real layers.
 */
final class Architecture {

    /** What is wrong with an architecture; {@link ModelFile} adds the file's name. */
    static final class InvalidException extends Exception {
        InvalidException(String message) {
            super(message);
        }
    }

    /** A layer's settings: enough to know its parameters and output shape without building it. */
    sealed interface LayerConfig permits DenseConfig, ConvConfig, BatchNormConfig, StatelessConfig {
        /**
         * The parameters, then the buffers, the layer will have, by name within the layer, in the
         * layer's order ({@link ModelWeights#named}); an IllegalArgumentException when a shape has
         * more elements than a long can count.
         */
        default Map<String, Shape> parameters() {
            return Map.of();
        }

        /** The output shape for these input shapes (batch included), or an IllegalArgumentException saying why not. */
        Shape outputShape(String name, List<Shape> inputs);

        /** A new layer with these settings; dense and convolution layers allocate their parameters here. */
        Layer build();

        /** True for joins (two or more inputs); every other layer takes exactly one. */
        default boolean join() {
            return false;
        }
    }

    record DenseConfig(int in, int out, Activation activation) implements LayerConfig {
        @Override
        public Map<String, Shape> parameters() {
            return ordered("weight", Shape.of(out, in), "bias", Shape.of(out));
        }

        @Override
        public Shape outputShape(String name, List<Shape> inputs) {
            Shape x = inputs.get(0); // arity is checked before shapes
            if (x.rank() != 2 || x.dim(1) != in) {
                throw new IllegalArgumentException("expects input (N, " + in + ") but got " + x
                        + (x.rank() > 2 ? "; add a Flatten before it" : ""));
            }
            return Shape.of(x.dim(0), out);
        }

        @Override
        public Layer build() {
            return new Dense(in, out, activation);
        }
    }

    /** {@code in} and {@code out} are multiples of the spec's groups (checked when read). */
    record ConvConfig(int in, int out, int kernelH, int kernelW, Conv2dSpec spec) implements LayerConfig {
        @Override
        public Map<String, Shape> parameters() {
            return ordered("weight", weight(), "bias", Shape.of(out));
        }

        private Shape weight() {
            return Shape.of(out, in / spec.groups(), kernelH, kernelW);
        }

        @Override
        public Shape outputShape(String name, List<Shape> inputs) {
            Shape x = inputs.get(0);
            if (x.rank() != 4 || x.dim(1) != in) {
                throw new IllegalArgumentException("expects input (N, " + in + ", H, W) but got " + x);
            }
            return spec.outputShape(x, weight());
        }

        @Override
        public Layer build() {
            return new Conv2d(in, out, kernelH, kernelW, spec);
        }
    }

    record BatchNormConfig(int channels, BatchNormSpec spec) implements LayerConfig {
        @Override
        public Map<String, Shape> parameters() {
            Map<String, Shape> m = new LinkedHashMap<>();
            for (String name : List.of("weight", "bias", "running_mean", "running_var")) {
                m.put(name, Shape.of(channels));
            }
            return m;
        }

        @Override
        public Shape outputShape(String name, List<Shape> inputs) {
            Shape x = inputs.get(0);
            if (x.rank() != 4 || x.dim(1) != channels) {
                throw new IllegalArgumentException("expects input (N, " + channels + ", H, W) but got " + x);
            }
            return x;
        }

        @Override
        public Layer build() {
            return new BatchNorm2d(channels, spec);
        }
    }

    /** A layer that holds no memory, so a fresh one is built to be asked its output shape: its rules are not restated. */
    non-sealed interface StatelessConfig extends LayerConfig {
        @Override
        default Shape outputShape(String name, List<Shape> inputs) {
            Layer probe = build();
            probe.named(name);
            try {
                return probe.outputShape(inputs);
            } catch (IllegalArgumentException e) {
                String prefix = name + ": "; // a layer's shape errors start with its name; the caller says where
                String m = String.valueOf(e.getMessage());
                throw new IllegalArgumentException(m.startsWith(prefix) ? m.substring(prefix.length()) : m, e);
            }
        }
    }

    /** Node {@code index} (the input is 0): a named layer applied to earlier nodes. */
    record NodeConfig(int index, String name, int[] inputs, LayerConfig layer) {}

    /** The fields every node has, whatever its layer. */
    private static final Set<String> NODE_FIELDS = Set.of("layer", "name", "inputs");

    private static final Set<String> ROOT_FIELDS = Set.of("format", "input", "output", "nodes");

    private final Shape sampleShape;
    private final List<NodeConfig> nodes; // node i + 1 is nodes.get(i)
    private final int output;
    private final Map<String, Shape> parameters; // "<layer>.<parameter>", model order
    private final long parameterCount;
    private final long activationCount;

    private Architecture(Shape sampleShape, List<NodeConfig> nodes, int output, Map<String, Shape> parameters,
            long parameterCount, long activationCount) {
        this.sampleShape = sampleShape;
        this.nodes = List.copyOf(nodes);
        this.output = output;
        this.parameters = Collections.unmodifiableMap(parameters);
        this.parameterCount = parameterCount;
        this.activationCount = activationCount;
    }

    /** Every parameter the model will have, named as in the file ({@code conv1.weight}), with its shape, in model order. */
    Map<String, Shape> parameters() {
        return parameters;
    }

    /** Elements of all parameters and buffers together: what the file's tensors hold. */
    long parameterCount() {
        return parameterCount;
    }

    /** Elements of one sample's input and of every node's output for it: what a batch-1 plan holds as activations. */
    long activationCount() {
        return activationCount;
    }

    // ---------------------------------------------------------------- reading

    /** Reads and checks {@code json}; allocates no tensor. */
    static Architecture read(String json, ModelFile.Limits limits) throws InvalidException {
        Object parsed;
        try {
            parsed = Json.parse(json);
        } catch (Json.SyntaxException e) {
            throw new InvalidException("not JSON: " + e.getMessage() + " at character " + e.index);
        }
        if (!(parsed instanceof Map<?, ?>)) {
            throw new InvalidException("the architecture must be a JSON object, got " + Fields.describe(parsed));
        }
        Fields root = Fields.of(parsed, "", ROOT_FIELDS); // its fields' messages need no "where"
        String format = root.string("format");
        if (!format.equals(ModelFile.FORMAT)) {
            throw new InvalidException("format is " + Fields.describe(format) + ", expected \"" + ModelFile.FORMAT + "\"");
        }
        Shape sample = inputShape(root, limits);
        long activations = sample.size();

        List<?> nodeList = root.array("nodes");
        List<NodeConfig> nodes = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Map<String, Shape> parameters = new LinkedHashMap<>();
        long parameterCount = 0;
        List<Shape> shapes = new ArrayList<>(); // one sample's output of each node, batch dimension 1
        shapes.add(sample.batched(1));
        for (int i = 0; i < nodeList.size(); i++) {
            int index = i + 1;
            NodeConfig node = node(index, nodeList.get(i), names);
            String where = "layer '" + node.name + "'";

            Map<String, Shape> own;
            try {
                own = node.layer.parameters();
            } catch (IllegalArgumentException e) {
                throw new InvalidException(where + ": " + e.getMessage());
            }
            for (Map.Entry<String, Shape> p : own.entrySet()) {
                String name = node.name + "." + p.getKey();
                if (parameters.put(name, p.getValue()) != null) {
                    throw new InvalidException(where + ": parameter '" + name + "' is also another layer's");
                }
                parameterCount = saturatingAdd(parameterCount, p.getValue().size());
                if (parameterCount > limits.maxParameters()) {
                    throw new InvalidException(where + ": parameter '" + name + "' " + p.getValue() + " brings the model to "
                            + (parameterCount == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : parameterCount)
                            + " parameters, more than the limit of " + limits.maxParameters() + " ("
                            + ModelFile.Limits.MAX_PARAMETERS_PROPERTY + ")");
                }
            }

            List<Shape> in = new ArrayList<>(node.inputs.length);
            for (int k : node.inputs) {
                in.add(shapes.get(k));
            }
            Shape out;
            try {
                out = node.layer.outputShape(node.name, in);
            } catch (IllegalArgumentException e) { // how every layer refuses shapes that do not fit
                throw new InvalidException(where + ": " + e.getMessage());
            }
            activations = saturatingAdd(activations, out.size());
            if (activations > limits.maxActivations()) {
                throw new InvalidException(where + ": output " + out + " brings one sample's activations to more than the limit of "
                        + limits.maxActivations() + " elements (" + ModelFile.Limits.MAX_ACTIVATIONS_PROPERTY + ")");
            }
            shapes.add(out);
            nodes.add(node);
        }

        long output = root.integer("output", 1, Integer.MAX_VALUE);
        if (output > nodes.size()) {
            throw new InvalidException("output " + output + " is not a node: there are " + nodes.size()
                    + " layer nodes, numbered 1 to " + nodes.size() + " (0 is the input)");
        }
        return new Architecture(sample, nodes, (int) output, parameters, parameterCount, activations);
    }

    private static Shape inputShape(Fields root, ModelFile.Limits limits) throws InvalidException {
        List<?> dims = root.array("input");
        if (dims.isEmpty()) {
            throw new InvalidException("input must have at least one dimension, got []");
        }
        long[] d = new long[dims.size()];
        long elements = 1;
        for (int i = 0; i < d.length; i++) {
            d[i] = Fields.integer(dims.get(i), "input[" + i + "]", 1, Long.MAX_VALUE);
            elements = saturatingMultiply(elements, d[i]);
        }
        if (elements > limits.maxActivations()) {
            throw new InvalidException("input " + Fields.describe(dims) + " holds more than the limit of " + limits.maxActivations()
                    + " activation elements per sample (" + ModelFile.Limits.MAX_ACTIVATIONS_PROPERTY + ")");
        }
        try {
            return Shape.of(d);
        } catch (IllegalArgumentException e) { // within a huge limit, but more bytes than can be addressed
            throw new InvalidException("input: " + e.getMessage());
        }
    }

    /** {@code a + b} for non-negative values, or {@link Long#MAX_VALUE} when that overflows: compared to a limit, either is too much. */
    private static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    /** {@code a * b} for positive values, or {@link Long#MAX_VALUE} when that overflows. */
    private static long saturatingMultiply(long a, long b) {
        return Math.multiplyHigh(a, b) != 0 || a * b < 0 ? Long.MAX_VALUE : a * b;
    }

    private static NodeConfig node(int index, Object value, Set<String> names) throws InvalidException {
        if (!(value instanceof Map<?, ?>)) {
            throw new InvalidException("node " + index + " must be a JSON object, got " + Fields.describe(value));
        }
        Map<?, ?> members = (Map<?, ?>) value;
        String name = Fields.of(value, "node " + index, null).string("name");
        if (!name.matches("[A-Za-z0-9_.]+")) { // Layer.named's rule, checked here so that no layer is made to refuse it
            throw new InvalidException("node " + index + ": a layer name is letters, digits, '_' and '.', got "
                    + Fields.describe(name));
        }
        if (!names.add(name)) {
            throw new InvalidException("node " + index + ": two layers are named '" + name + "'; names must be unique");
        }
        String where = "layer '" + name + "'";
        Object kindValue = members.get("layer");
        if (kindValue == null) {
            throw new InvalidException(where + ": missing field \"layer\" (its kind)");
        }
        LayerKinds.Kind<?> kind = kindValue instanceof String k ? LayerKinds.named(k) : null;
        if (kind == null) {
            throw new InvalidException(where + ": unknown layer type " + (kindValue instanceof String s ? "'" + Fields.abbreviate(s) + "'"
                    : Fields.describe(kindValue)) + " (known: " + String.join(", ", new TreeSet<>(LayerKinds.names())) + ")");
        }
        Set<String> allowed = new HashSet<>(NODE_FIELDS);
        allowed.addAll(kind.fields());
        Fields f = Fields.of(value, where, allowed);

        List<?> inputList = f.array("inputs");
        int[] inputs = new int[inputList.size()];
        Set<Integer> seen = new HashSet<>();
        for (int k = 0; k < inputs.length; k++) {
            long in;
            try {
                in = Fields.integer(inputList.get(k), where + ": inputs[" + k + "]", 0, index - 1);
            } catch (InvalidException e) {
                throw new InvalidException(e.getMessage() + " (it is node " + index
                        + "; a node's inputs are earlier nodes, 0 being the input, so the graph has no cycles)");
            }
            if (!seen.add((int) in)) {
                throw new InvalidException(where + " is given node " + in + " twice; pass each input node once");
            }
            inputs[k] = (int) in;
        }
        LayerConfig layer = kind.reader().read(f, where);
        if (layer.join() ? inputs.length < 2 : inputs.length != 1) {
            throw new InvalidException(where + " takes " + (layer.join() ? "two or more inputs" : "one input") + ", got "
                    + inputs.length);
        }
        return new NodeConfig(index, name, inputs, layer);
    }

    private static Map<String, Shape> ordered(String n1, Shape s1, String n2, Shape s2) {
        Map<String, Shape> m = new LinkedHashMap<>();
        m.put(n1, s1);
        m.put(n2, s2);
        return m;
    }

    // ---------------------------------------------------------------- building

    /**
     * The model, its parameters allocated (values to be loaded). Only called on an architecture
     * whose file's tensors fit it. On any failure every layer made so far is closed before the
     * exception leaves.
     */
    Model build() {
        List<Layer> made = new ArrayList<>(nodes.size());
        try {
            Model.Builder b = Model.builder(sampleShape);
            List<Node> built = new ArrayList<>(nodes.size() + 1);
            built.add(b.input());
            for (NodeConfig n : nodes) {
                Layer layer = n.layer.build();
                made.add(layer);
                layer.named(n.name);
                Node[] inputs = new Node[n.inputs.length];
                for (int k = 0; k < inputs.length; k++) {
                    inputs[k] = built.get(n.inputs[k]);
                }
                built.add(b.add(layer, inputs));
            }
            return b.buildForLoading(built.get(output)); // every parameter is read from the file next
        } catch (RuntimeException | Error e) {
            closeAll(made, e);
            throw e;
        }
    }

    /** Closes every layer, recording (not losing) a failure to close on {@code cause}. */
    static void closeAll(List<Layer> layers, Throwable cause) {
        for (Layer l : layers) {
            try {
                l.close();
            } catch (RuntimeException | Error c) {
                cause.addSuppressed(c);
            }
        }
    }

    // ---------------------------------------------------------------- JSON values with messages

    /** One JSON object's members, read with messages that say where ({@code layer 'conv2': }) and what. */
    static final class Fields {
        private final Map<?, ?> members;
        private final String where;

        private Fields(Map<?, ?> members, String where) {
            this.members = members;
            this.where = where;
        }

        /** {@code value} as an object; {@code allowed} (unless null) are the only member names accepted. */
        static Fields of(Object value, String where, Set<String> allowed) throws InvalidException {
            if (!(value instanceof Map<?, ?> m)) {
                throw new InvalidException(where + " must be a JSON object, got " + describe(value));
            }
            if (allowed != null) {
                for (Object key : m.keySet()) {
                    if (!allowed.contains(key)) {
                        throw new InvalidException(prefix(where) + "unknown field " + describe(key) + " (expected "
                                + String.join(", ", new TreeSet<>(allowed)) + ")");
                    }
                }
            }
            return new Fields(m, where);
        }

        boolean has(String key) {
            return members.containsKey(key);
        }

        private Object get(String key) throws InvalidException {
            Object v = members.get(key);
            if (v == null) {
                throw new InvalidException(prefix(where) + "missing field \"" + key + "\"");
            }
            return v;
        }

        String string(String key) throws InvalidException {
            Object v = get(key);
            if (!(v instanceof String s)) {
                throw new InvalidException(prefix(where) + key + " must be a string, got " + describe(v));
            }
            return s;
        }

        boolean bool(String key) throws InvalidException {
            Object v = get(key);
            if (!(v instanceof Boolean b)) {
                throw new InvalidException(prefix(where) + key + " must be true or false, got " + describe(v));
            }
            return b;
        }

        List<?> array(String key) throws InvalidException {
            Object v = get(key);
            if (!(v instanceof List<?> l)) {
                throw new InvalidException(prefix(where) + key + " must be a JSON array, got " + describe(v));
            }
            return l;
        }

        long integer(String key, long min, long max) throws InvalidException {
            return integer(get(key), prefix(where) + key, min, max);
        }

        int positiveInt(String key) throws InvalidException {
            return (int) integer(key, 1, Integer.MAX_VALUE);
        }

        /** Exactly {@code count} integers, each from {@code min} to {@link Integer#MAX_VALUE}. */
        int[] ints(String key, int count, int min) throws InvalidException {
            Object v = get(key);
            if (!(v instanceof List<?> l) || l.size() != count) {
                throw new InvalidException(prefix(where) + key + " must have " + count + " entries, got " + describe(v));
            }
            int[] out = new int[count];
            for (int i = 0; i < count; i++) {
                out[i] = (int) integer(l.get(i), prefix(where) + key + "[" + i + "]", min, Integer.MAX_VALUE);
            }
            return out;
        }

        double number(String key) throws InvalidException {
            Object v = get(key);
            if (!(v instanceof Json.Num n)) {
                throw new InvalidException(prefix(where) + key + " must be a number, got " + describe(v));
            }
            double d = Double.parseDouble(n.text()); // JSON's number grammar is a subset of Java's
            if (!Double.isFinite(d)) {
                throw new InvalidException(prefix(where) + key + " " + abbreviate(n.text()) + " is out of range");
            }
            return d;
        }

        float finiteFloat(String key) throws InvalidException {
            double d = number(key);
            if (!Float.isFinite((float) d)) {
                throw new InvalidException(prefix(where) + key + " " + d + " does not fit a float");
            }
            return (float) d;
        }

        /** {@code v} as an integer from {@code min} to {@code max}; {@code what} names it in the message. */
        static long integer(Object v, String what, long min, long max) throws InvalidException {
            if (!(v instanceof Json.Num n) || !n.integer()) {
                throw new InvalidException(what + " must be an integer, got " + describe(v));
            }
            long value;
            try {
                value = Long.parseLong(n.text());
            } catch (NumberFormatException e) { // more digits than a long holds: out of any range
                throw new InvalidException(what + " must be from " + min + " to " + max + ", got " + abbreviate(n.text()));
            }
            if (value < min || value > max) {
                throw new InvalidException(what + " must be from " + min + " to " + max + ", got " + value);
            }
            return value;
        }

        /** {@code where} followed by ": ", or nothing for the architecture's own fields. */
        private static String prefix(String where) {
            return where.isEmpty() ? "" : where + ": ";
        }

        /** A JSON value for a message, short: {@code [3]}, {@code "relu"}, {@code an object}. */
        static String describe(Object v) {
            StringBuilder sb = new StringBuilder();
            render(v, sb);
            return sb.length() <= 60 ? sb.toString() : sb.substring(0, 57) + "...";
        }

        private static void render(Object v, StringBuilder sb) {
            if (sb.length() > 60) {
                return; // enough for a message; a huge array stops here
            }
            if (v instanceof List<?> l) {
                sb.append('[');
                for (int i = 0; i < l.size() && sb.length() <= 60; i++) {
                    sb.append(i == 0 ? "" : ", ");
                    render(l.get(i), sb);
                }
                sb.append(']');
            } else if (v instanceof Map<?, ?>) {
                sb.append("an object");
            } else if (v instanceof String s) {
                sb.append(Json.quote(abbreviate(s)));
            } else {
                sb.append(v); // numbers as written, true, false, null
            }
        }

        static String abbreviate(String s) {
            return s.length() <= 40 ? s : s.substring(0, 37) + "...";
        }
    }
}
