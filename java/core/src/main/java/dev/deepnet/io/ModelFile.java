package dev.deepnet.io;

import dev.deepnet.nn.Add;
import dev.deepnet.nn.AvgPool2d;
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
import dev.deepnet.nn.Relu;
import dev.deepnet.nn.Sigmoid;
import dev.deepnet.nn.Softmax;
import dev.deepnet.nn.Tanh;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.LrnSpec;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A whole model in one safetensors file: the weights as tensors named like a PyTorch
 * {@code state_dict} ({@link ModelWeights}), and the architecture — every layer with its
 * settings, and the graph — as JSON in the file's metadata under {@value #ARCHITECTURE_KEY}.
 * Tools that only want weights (PyTorch's {@code safetensors.torch.load_file}) ignore the
 * metadata.
 *
 * <pre>{@code
 * {"format": "deepnet-model/1", "input": [1, 28, 28], "output": 5,
 *  "nodes": [{"layer": "conv", "name": "conv1", "inputs": [0], "in": 1, "out": 32, "kernel": [5, 5],
 *             "stride": [1, 1], "padding": [2, 2, 2, 2], "dilation": [1, 1]}, ...]}
 * }</pre>
 * Node 0 is the input; node i + 1 is the i-th entry of {@code nodes}.
 */
public final class ModelFile {
    private ModelFile() {}

    /** The metadata key that holds the architecture. */
    public static final String ARCHITECTURE_KEY = "deepnet.architecture";
    static final String FORMAT = "deepnet-model/1";

    /** The metadata key that holds the class names, one per output, as a JSON array of strings. */
    public static final String CLASSES_KEY = "deepnet.classes";

    /** Writes architecture and weights (atomically). */
    public static void save(Model model, Path file) throws IOException {
        save(model, file, List.of(), Map.of());
    }

    /** Writes architecture, weights, the class names (may be empty) and any other metadata. */
    public static void save(Model model, Path file, List<String> classes, Map<String, String> metadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(ARCHITECTURE_KEY, architecture(model));
        if (!classes.isEmpty()) {
            meta.put(CLASSES_KEY, "[" + String.join(", ", classes.stream().map(Json::quote).toList()) + "]");
        }
        ModelWeights.save(model, file, meta);
    }

    /** The class names saved with a model, or an empty list. */
    public static List<String> classes(Path file) throws IOException {
        String json;
        try (SafeTensorsFile f = SafeTensors.read(file)) {
            json = f.metadata().get(CLASSES_KEY);
        }
        if (json == null) {
            return List.of();
        }
        try {
            List<String> out = new ArrayList<>();
            for (Object o : list(Json.parse(json), CLASSES_KEY)) {
                out.add(string(o, "a class name"));
            }
            return out;
        } catch (RuntimeException | Json.SyntaxException e) {
            throw new SafeTensorsException(file, "its class names cannot be read: " + e.getMessage(), e);
        }
    }

    /** Builds the model the file describes and loads its weights; the file is fully checked first. */
    public static Model load(Path file) throws IOException {
        String json;
        try (SafeTensorsFile f = SafeTensors.read(file)) {
            json = f.metadata().get(ARCHITECTURE_KEY);
        }
        if (json == null) {
            throw new SafeTensorsException(file, "holds no deepnet architecture (metadata key '" + ARCHITECTURE_KEY
                    + "'); load its weights into a model you build with ModelWeights.load");
        }
        Model model;
        try {
            model = build(json);
        } catch (RuntimeException | Json.SyntaxException e) {
            throw new SafeTensorsException(file, "its architecture cannot be read: " + e.getMessage(), e);
        }
        try {
            ModelWeights.load(model, file);
            return model;
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The architecture as JSON. Throws for a layer type it does not know how to write. */
    public static String architecture(Model model) {
        StringBuilder sb = new StringBuilder("{\"format\": ").append(Json.quote(FORMAT)).append(", \"input\": ")
                .append(ints(model.sampleShape().dims())).append(", \"output\": ").append(model.output().index())
                .append(", \"nodes\": [");
        boolean first = true;
        for (Node n : model.nodes()) {
            if (n.isInput()) {
                continue;
            }
            sb.append(first ? "" : ", ");
            first = false;
            Layer l = n.layer();
            sb.append("{\"layer\": ").append(Json.quote(kind(l))).append(", \"name\": ").append(Json.quote(l.name()))
                    .append(", \"inputs\": ").append(ints(n.inputs().stream().mapToLong(Node::index).toArray()));
            config(l, sb);
            sb.append('}');
        }
        return sb.append("]}").toString();
    }

    private static String kind(Layer l) {
        return switch (l) {
            case Dense d -> "dense";
            case Conv2d c -> "conv";
            case MaxPool2d m -> "maxpool";
            case AvgPool2d a -> "avgpool";
            case Lrn r -> "lrn";
            case Dropout d -> "dropout";
            case Flatten f -> "flatten";
            case Sigmoid s -> "sigmoid";
            case Relu r -> "relu";
            case Tanh t -> "tanh";
            case Softmax s -> "softmax";
            case Add a -> "add";
            case Concat c -> "concat";
            default -> throw new IllegalArgumentException("cannot save layer " + l.name() + " of type " + l.getClass().getName());
        };
    }

    private static void config(Layer l, StringBuilder sb) {
        switch (l) {
            case Dense d -> sb.append(", \"in\": ").append(d.inputFeatures()).append(", \"out\": ").append(d.outputFeatures())
                    .append(", \"activation\": ").append(Json.quote(d.activation().name().toLowerCase(Locale.ROOT)));
            case Conv2d c -> {
                Shape w = c.weight().shape();
                Conv2dSpec s = c.spec();
                sb.append(", \"in\": ").append(w.dim(1)).append(", \"out\": ").append(w.dim(0))
                        .append(", \"kernel\": ").append(ints(w.dim(2), w.dim(3)))
                        .append(", \"stride\": ").append(ints(s.strideH(), s.strideW()))
                        .append(", \"padding\": ").append(ints(s.padTop(), s.padLeft(), s.padBottom(), s.padRight()))
                        .append(", \"dilation\": ").append(ints(s.dilationH(), s.dilationW()));
            }
            case MaxPool2d m -> pool(m.spec(), sb);
            case AvgPool2d a -> pool(a.spec(), sb);
            case Lrn r -> {
                LrnSpec s = r.spec();
                sb.append(", \"size\": ").append(s.size()).append(", \"alpha\": ").append(Float.toString(s.alpha()))
                        .append(", \"beta\": ").append(Float.toString(s.beta())).append(", \"k\": ").append(Float.toString(s.k()));
            }
            case Dropout d -> sb.append(", \"p\": ").append(Double.toString(d.probability()));
            default -> { }
        }
    }

    private static void pool(Pool2dSpec s, StringBuilder sb) {
        sb.append(", \"kernel\": ").append(ints(s.kernelH(), s.kernelW()))
                .append(", \"stride\": ").append(ints(s.strideH(), s.strideW()))
                .append(", \"padding\": ").append(ints(s.padTop(), s.padLeft(), s.padBottom(), s.padRight()))
                .append(", \"count_padding\": ").append(s.countPadding());
    }

    private static String ints(long... values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(values[i]);
        }
        return sb.append(']').toString();
    }

    // ---------------------------------------------------------------- reading

    /** Builds a model (parameters zero, to be loaded) from its architecture JSON. */
    static Model build(String json) throws Json.SyntaxException {
        Map<String, Object> root = object(Json.parse(json), "the architecture");
        if (!FORMAT.equals(root.get("format"))) {
            throw new IllegalArgumentException("format is " + root.get("format") + ", expected " + FORMAT);
        }
        Model.Builder b = Model.builder(Shape.of(longs(root.get("input"), "input")));
        List<Node> nodes = new ArrayList<>();
        nodes.add(b.input());
        for (Object o : list(root.get("nodes"), "nodes")) {
            Map<String, Object> n = object(o, "a node");
            List<Node> inputs = new ArrayList<>();
            for (long i : longs(n.get("inputs"), "inputs")) {
                if (i < 0 || i >= nodes.size()) {
                    throw new IllegalArgumentException("node " + nodes.size() + " takes input " + i + ", which is not an earlier node");
                }
                inputs.add(nodes.get((int) i));
            }
            Layer layer = layer(n);
            layer.named(string(n.get("name"), "name"));
            nodes.add(b.add(layer, inputs.toArray(new Node[0])));
        }
        long output = integer(root.get("output"), "output");
        if (output < 1 || output >= nodes.size()) {
            throw new IllegalArgumentException("output " + output + " is not a layer node");
        }
        return b.build(nodes.get((int) output), 0);
    }

    private static Layer layer(Map<String, Object> n) {
        String kind = string(n.get("layer"), "layer");
        return switch (kind) {
            case "dense" -> new Dense((int) integer(n.get("in"), "in"), (int) integer(n.get("out"), "out"),
                    Activation.valueOf(string(n.get("activation"), "activation").toUpperCase(Locale.ROOT)));
            case "conv" -> {
                long[] k = longs(n.get("kernel"), "kernel");
                long[] s = longs(n.get("stride"), "stride");
                long[] p = longs(n.get("padding"), "padding");
                long[] d = longs(n.get("dilation"), "dilation");
                yield new Conv2d((int) integer(n.get("in"), "in"), (int) integer(n.get("out"), "out"), (int) k[0], (int) k[1],
                        new Conv2dSpec((int) s[0], (int) s[1], (int) p[0], (int) p[1], (int) p[2], (int) p[3], (int) d[0], (int) d[1]));
            }
            case "maxpool" -> new MaxPool2d(poolSpec(n));
            case "avgpool" -> new AvgPool2d(poolSpec(n));
            case "lrn" -> new Lrn(new LrnSpec((int) integer(n.get("size"), "size"), (float) number(n.get("alpha"), "alpha"),
                    (float) number(n.get("beta"), "beta"), (float) number(n.get("k"), "k")));
            case "dropout" -> new Dropout(number(n.get("p"), "p"));
            case "flatten" -> new Flatten();
            case "sigmoid" -> new Sigmoid();
            case "relu" -> new Relu();
            case "tanh" -> new Tanh();
            case "softmax" -> new Softmax();
            case "add" -> new Add();
            case "concat" -> new Concat();
            default -> throw new IllegalArgumentException("unknown layer type '" + kind + "'");
        };
    }

    private static Pool2dSpec poolSpec(Map<String, Object> n) {
        long[] k = longs(n.get("kernel"), "kernel");
        long[] s = longs(n.get("stride"), "stride");
        long[] p = longs(n.get("padding"), "padding");
        Object count = n.get("count_padding");
        if (!(count instanceof Boolean c)) {
            throw new IllegalArgumentException("count_padding must be true or false");
        }
        return new Pool2dSpec((int) k[0], (int) k[1], (int) s[0], (int) s[1], (int) p[0], (int) p[1], (int) p[2], (int) p[3], c);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object o, String what) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(what + " must be a JSON object");
        }
        return (Map<String, Object>) m;
    }

    private static List<?> list(Object o, String what) {
        if (!(o instanceof List<?> l)) {
            throw new IllegalArgumentException(what + " must be a JSON array");
        }
        return l;
    }

    private static String string(Object o, String what) {
        if (!(o instanceof String s)) {
            throw new IllegalArgumentException(what + " must be a string");
        }
        return s;
    }

    private static long integer(Object o, String what) {
        if (!(o instanceof Json.Num n) || !n.integer()) {
            throw new IllegalArgumentException(what + " must be an integer");
        }
        return Long.parseLong(n.text());
    }

    private static double number(Object o, String what) {
        if (!(o instanceof Json.Num n)) {
            throw new IllegalArgumentException(what + " must be a number");
        }
        return Double.parseDouble(n.text());
    }

    private static long[] longs(Object o, String what) {
        List<?> l = list(o, what);
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = integer(l.get(i), what);
        }
        return out;
    }
}
