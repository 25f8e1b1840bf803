package dev.deepnet.io;

import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

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
 * Node 0 is the input; node i + 1 is the i-th entry of {@code nodes}; a node's inputs are earlier
 * nodes, so the graph has no cycles. Reading is strict: a field of the wrong type or range, a
 * field a layer does not have, or a missing one fails the load.
 *
 * <p>Loading a file is safe with a file from anyone: the file is checked in full before any
 * memory is allocated for the model, and what it may ask for is bounded by its own size (its
 * parameters are its tensors) and by {@link Limits}. A bad file fails with a
 * {@link SafeTensorsException} that names the file and what is wrong, e.g. {@code m.safetensors:
 * its architecture is invalid: layer 'conv2': kernel must have 2 entries, got [3]}.
 */
public final class ModelFile {
    private ModelFile() {}

    /** The metadata key that holds the architecture. */
    public static final String ARCHITECTURE_KEY = "deepnet.architecture";
    static final String FORMAT = "deepnet-model/1";

    /** The metadata key that holds the class names, one per output, as a JSON array of strings. */
    public static final String CLASSES_KEY = "deepnet.classes";

    /**
     * The metadata key that holds how images become the model's input ({@link ImagePreprocessing}),
     * as JSON: {@code {"channels": 1, "height": 28, "width": 28, "resize": 28, "mean": [0.0],
     * "std": [1.0], "invert": false, "mismatch": "convert"}} ({@code invert} and {@code mismatch}
     * may be left out: false, convert). Files without it are read with
     * {@link ImagePreprocessing#defaultFor} the model's sample shape.
     */
    public static final String PREPROCESSING_KEY = "deepnet.preprocessing";

    /** Writes architecture and weights (atomically). */
    public static void save(Model model, Path file) throws IOException {
        save(model, file, List.of(), Map.of());
    }

    /** Writes architecture, weights, the class names (may be empty) and any other metadata. */
    public static void save(Model model, Path file, List<String> classes, Map<String, String> metadata) throws IOException {
        save(model, file, classes, null, metadata);
    }

    /**
     * Writes architecture, weights, the class names (may be empty), how images become the model's
     * input ({@code preprocessing}; null for none) and any other metadata.
     *
     * @throws IllegalArgumentException when the preprocessing does not make the model's samples
     */
    public static void save(Model model, Path file, List<String> classes, ImagePreprocessing preprocessing, Map<String, String> metadata)
            throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(ARCHITECTURE_KEY, architecture(model));
        if (preprocessing != null && !preprocessing.sampleShape().equals(model.sampleShape())) {
            throw new IllegalArgumentException("the preprocessing makes samples " + preprocessing.sampleShape()
                    + " but the model takes " + model.sampleShape());
        }
        meta.putAll(classifierMetadata(classes, preprocessing));
        ModelWeights.save(model, file, meta);
    }

    /** The preprocessing saved with a model, if any (see {@link #PREPROCESSING_KEY}). */
    public static Optional<ImagePreprocessing> preprocessing(Path file) throws IOException {
        return fromMetadata(file, PREPROCESSING_KEY, ModelFile::preprocessing);
    }

    /**
     * The preprocessing held under {@link #PREPROCESSING_KEY} in {@code metadata} (a model file's,
     * or another format's key-value metadata, such as ONNX's {@code metadata_props}), if any.
     *
     * @throws IllegalArgumentException saying what is wrong when the value cannot be read
     */
    public static Optional<ImagePreprocessing> preprocessing(Map<String, String> metadata) {
        String json = metadata.get(PREPROCESSING_KEY);
        if (json == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(readPreprocessing(json));
        } catch (RuntimeException | Json.SyntaxException e) {
            throw new IllegalArgumentException("its image preprocessing (metadata '" + PREPROCESSING_KEY + "') cannot be read: "
                    + e.getMessage(), e);
        }
    }

    /**
     * The metadata entries that say how a model reads as a classifier, as {@link #save} writes them:
     * {@link #CLASSES_KEY} (when {@code classes} is not empty) and {@link #PREPROCESSING_KEY} (when
     * {@code preprocessing} is not null), for formats that carry key-value metadata of their own
     * ({@code OnnxFile.save(model, file, metadata)}).
     */
    public static Map<String, String> classifierMetadata(List<String> classes, ImagePreprocessing preprocessing) {
        Map<String, String> meta = new LinkedHashMap<>();
        if (!classes.isEmpty()) {
            meta.put(CLASSES_KEY, "[" + String.join(", ", classes.stream().map(Json::quote).toList()) + "]");
        }
        if (preprocessing != null) {
            meta.put(PREPROCESSING_KEY, preprocessingJson(preprocessing));
        }
        return meta;
    }

    static String preprocessingJson(ImagePreprocessing p) {
        return "{\"channels\": " + p.channels() + ", \"height\": " + p.height() + ", \"width\": " + p.width() + ", \"resize\": "
                + p.resize() + ", \"mean\": " + floats(p.mean()) + ", \"std\": " + floats(p.std()) + ", \"invert\": " + p.inverted()
                + ", \"mismatch\": " + Json.quote(p.mismatch().name().toLowerCase(Locale.ROOT)) + "}";
    }

    private static String floats(float[] values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(Float.toString(values[i]));
        }
        return sb.append(']').toString();
    }

    private static final java.util.Set<String> PREPROCESSING_FIELDS =
            java.util.Set.of("channels", "height", "width", "resize", "mean", "std", "invert", "mismatch");

    /** Strict: every field of the right type and range, none unknown; invert and mismatch optional. */
    static ImagePreprocessing readPreprocessing(String json) throws Json.SyntaxException {
        if (!(Json.parse(json) instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("it must be a JSON object");
        }
        for (Object key : m.keySet()) {
            if (!PREPROCESSING_FIELDS.contains(key)) {
                throw new IllegalArgumentException("unknown field '" + key + "'");
            }
        }
        ImagePreprocessing p = ImagePreprocessing.of(intField(m, "channels"), intField(m, "height"), intField(m, "width"),
                intField(m, "resize"), floatsField(m, "mean"), floatsField(m, "std"));
        Object invert = m.get("invert");
        if (invert != null) {
            if (!(invert instanceof Boolean b)) {
                throw new IllegalArgumentException("invert must be true or false");
            }
            p = p.inverted(b);
        }
        Object mismatch = m.get("mismatch");
        if (mismatch != null) {
            p = p.withMismatch(switch (string(mismatch, "mismatch")) {
                case "convert" -> ImagePreprocessing.Mismatch.CONVERT;
                case "refuse" -> ImagePreprocessing.Mismatch.REFUSE;
                default -> throw new IllegalArgumentException("mismatch must be \"convert\" or \"refuse\", got " + Json.quote((String) mismatch));
            });
        }
        return p;
    }

    private static int intField(Map<?, ?> m, String name) {
        if (!(m.get(name) instanceof Json.Num n) || !n.integer()) {
            throw new IllegalArgumentException(name + " must be a whole number");
        }
        try {
            return Integer.parseInt(n.text());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " is out of range: " + n.text());
        }
    }

    private static float[] floatsField(Map<?, ?> m, String name) {
        List<?> l = list(m.get(name), name);
        if (l.size() > 3) {
            throw new IllegalArgumentException(name + " has " + l.size() + " values; an image has at most 3 channels");
        }
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Json.Num n)) {
                throw new IllegalArgumentException(name + " must hold numbers");
            }
            out[i] = Float.parseFloat(n.text());
        }
        return out;
    }

    /** One metadata value of a safetensors file, or null. */
    private static String metadata(Path file, String key) throws IOException {
        try (SafeTensorsFile f = SafeTensors.read(file)) {
            return f.metadata().get(key);
        }
    }

    /** The class names saved with a model, or an empty list. */
    public static List<String> classes(Path file) throws IOException {
        return fromMetadata(file, CLASSES_KEY, ModelFile::classes);
    }

    /** What {@code reader} makes of the file's metadata value under {@code key}; its complaint as the file's. */
    private static <T> T fromMetadata(Path file, String key, java.util.function.Function<Map<String, String>, T> reader)
            throws IOException {
        String value = metadata(file, key);
        try {
            return reader.apply(value == null ? Map.of() : Map.of(key, value));
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(file, e.getMessage(), e);
        }
    }

    /**
     * The class names held under {@link #CLASSES_KEY} in {@code metadata} (a model file's, or
     * another format's key-value metadata), or an empty list.
     *
     * @throws IllegalArgumentException saying what is wrong when the value cannot be read
     */
    public static List<String> classes(Map<String, String> metadata) {
        String json = metadata.get(CLASSES_KEY);
        if (json == null) {
            return List.of();
        }
        try {
            List<String> out = new ArrayList<>();
            for (Object o : list(Json.parse(json), CLASSES_KEY)) {
                out.add(string(o, "a class name"));
            }
            return List.copyOf(out);
        } catch (RuntimeException | Json.SyntaxException e) {
            throw new IllegalArgumentException("its class names cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * Limits on what a model file may ask of memory, checked before anything is allocated. A file
     * cannot ask for more parameter memory than it holds (every parameter is a tensor in it), but a
     * few hundred bytes of architecture can describe layers whose activations need terabytes once a
     * plan is compiled, and a large file may simply be more than a service wants to load.
     *
     * @param maxParameters  most parameter elements (4 bytes each) in the whole model; default
     *                       {@value #DEFAULT_MAX_PARAMETERS} (4 GiB of f32, 17 times AlexNet), or the
     *                       system property {@value #MAX_PARAMETERS_PROPERTY}
     * @param maxActivations most elements in one sample's input and all its nodes' outputs together
     *                       (what a batch-1 plan holds; a batch of N holds N times that); default
     *                       {@value #DEFAULT_MAX_ACTIVATIONS} (1 GiB of f32 per sample, about 130 times
     *                       AlexNet's 2.1 million), or the system property {@value #MAX_ACTIVATIONS_PROPERTY}
     */
    public record Limits(long maxParameters, long maxActivations) {
        public static final String MAX_PARAMETERS_PROPERTY = "deepnet.modelfile.maxParameters";
        public static final String MAX_ACTIVATIONS_PROPERTY = "deepnet.modelfile.maxActivations";
        public static final long DEFAULT_MAX_PARAMETERS = 1L << 30;
        public static final long DEFAULT_MAX_ACTIVATIONS = 1L << 28;

        public Limits {
            if (maxParameters < 1 || maxActivations < 1) {
                throw new IllegalArgumentException("model file limits must be positive, got maxParameters " + maxParameters
                        + ", maxActivations " + maxActivations);
            }
        }

        /** The limits the system properties set now, each defaulting as documented above. */
        public static Limits fromSystemProperties() {
            return new Limits(property(MAX_PARAMETERS_PROPERTY, DEFAULT_MAX_PARAMETERS),
                    property(MAX_ACTIVATIONS_PROPERTY, DEFAULT_MAX_ACTIVATIONS));
        }

        private static long property(String key, long fallback) {
            String v = System.getProperty(key);
            if (v == null) {
                return fallback;
            }
            try {
                return Long.parseLong(v.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("system property " + key + " must be a whole number, got '" + v + "'", e);
            }
        }
    }

    /**
     * Builds the model the file describes and loads its weights, within
     * {@link Limits#fromSystemProperties()}; see {@link #load(Path, Limits)}.
     */
    public static Model load(Path file) throws IOException {
        return load(file, Limits.fromSystemProperties());
    }

    /**
     * Builds the model the file describes and loads its weights. The whole file is checked before a
     * single layer is made: the architecture's every field, the graph, every node's output shape,
     * every parameter's name and shape against the file's tensors (F32, none missing, none extra),
     * and the {@code limits}. So a bad file costs memory in proportion to its header, not to what
     * it claims. Any failure throws {@link SafeTensorsException} naming the file and what is wrong,
     * and frees whatever was built.
     */
    public static Model load(Path file, Limits limits) throws IOException {
        try (SafeTensorsFile f = SafeTensors.read(file)) {
            return load(f, limits);
        }
    }

    /** {@link #load(Path, Limits)} from a file already open; it stays open. */
    static Model load(SafeTensorsFile f, Limits limits) throws IOException {
        Path file = f.file();
        String json = f.metadata().get(ARCHITECTURE_KEY);
        if (json == null) {
            throw new SafeTensorsException(file, "holds no deepnet architecture (metadata key '" + ARCHITECTURE_KEY
                    + "'); load its weights into a model you build with ModelWeights.load");
        }
        Architecture architecture;
        try {
            architecture = Architecture.read(json, limits);
        } catch (Architecture.InvalidException e) {
            throw new SafeTensorsException(file, "its architecture is invalid: " + e.getMessage());
        } catch (RuntimeException e) { // a check is missing in Architecture; still the loader's exception, cause kept
            throw new SafeTensorsException(file, "its architecture cannot be read: " + e, e);
        }
        ModelWeights.checkFits(f, architecture.parameters(), "its architecture");

        // The file fits: only now is memory allocated. A failure from here on (an I/O error, the
        // file changed on disk since its header was read, no memory) frees every layer made.
        Model model;
        try {
            model = architecture.build(); // closes what it made when it fails
        } catch (RuntimeException e) {
            throw new SafeTensorsException(file, "its architecture passed every check but could not be built: " + e, e);
        }
        try {
            Map<String, Parameter> params = ModelWeights.named(model);
            if (!params.keySet().equals(architecture.parameters().keySet())) {
                throw new IllegalStateException("the built model's parameters " + params.keySet()
                        + " are not those its architecture names " + architecture.parameters().keySet());
            }
            // A fresh model that nobody else sees: copying straight into it changes nothing of the caller's.
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                f.copyTo(e.getKey(), e.getValue().value());
            }
            return model;
        } catch (IOException | RuntimeException | Error e) {
            Architecture.closeAll(model.layers(), e);
            if (e instanceof RuntimeException r) {
                throw new SafeTensorsException(file, "its weights could not be loaded: " + r, r);
            }
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
            LayerKinds.Kind<?> kind = LayerKinds.of(l);
            sb.append("{\"layer\": ").append(Json.quote(kind.name())).append(", \"name\": ").append(Json.quote(l.name()))
                    .append(", \"inputs\": ").append(ints(n.inputs().stream().mapToLong(Node::index).toArray()));
            kind.write(l, new LayerKinds.Settings(sb));
            sb.append('}');
        }
        return sb.append("]}").toString();
    }

    private static String ints(long... values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(values[i]);
        }
        return sb.append(']').toString();
    }

    // ---------------------------------------------------------------- reading class names

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
}
