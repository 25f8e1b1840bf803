package dev.deepnet.fuzz;

import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.fuzz.JsonSpans.Kind;
import dev.deepnet.fuzz.JsonSpans.Value;
import dev.deepnet.fuzz.Mutator.Mutation;
import dev.deepnet.io.ModelFile;
import dev.deepnet.io.SafeTensorsException;
import dev.deepnet.nn.Add;
import dev.deepnet.nn.AdaptiveAvgPool2d;
import dev.deepnet.nn.AvgPool2d;
import dev.deepnet.nn.BatchNorm2d;
import dev.deepnet.nn.Clip;
import dev.deepnet.nn.Concat;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Dropout;
import dev.deepnet.nn.Flatten;
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
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * deepnet model files through {@link ModelFile#load}, {@link ModelFile#classes} and {@link ModelFile#preprocessing}: safetensors
 * files whose metadata holds the architecture as JSON. Besides the safetensors mutations, the
 * architecture itself is taken out of its JSON string, mutated as JSON (numbers, array lengths,
 * layer kinds, node names, inputs), and put back, so that the mutation reaches the model builder.
 */
public final class ModelFileFuzzFormat implements FuzzFormat {

    /** Strings worth writing in an architecture: every layer kind, activations, node names, formats. */
    private static final List<String> ARCHITECTURE_STRINGS = List.of("dense", "conv", "maxpool", "avgpool", "lrn",
            "dropout", "flatten", "sigmoid", "relu", "tanh", "softmax", "add", "concat", "Dense", "linear", "unknown",
            "relu", "sigmoid", "tanh", "linear", "none", "RELU", "conv1", "dense1", "dense2", "relu1", "flatten1",
            "conv1.weight", "deepnet-model/1", "deepnet-model/2", "batchnorm", "clip", "adaptivepool", "batchnorm2.running_var");

    private static final List<String> ARCHITECTURE_KEYS = List.of("layer", "name", "inputs", "in", "out", "kernel",
            "stride", "padding", "dilation", "count_padding", "size", "alpha", "beta", "k", "p", "activation", "format",
            "input", "output", "nodes", "groups", "ceil_mode", "channels", "epsilon", "momentum", "min", "max");

    @Override
    public String name() {
        return "model";
    }

    @Override
    public List<Seed> seeds(Path scratch) throws IOException {
        List<Seed> seeds = new ArrayList<>();
        try (Model convDense = Model.sequential(Shape.of(1, 6, 6), 11, new Conv2d(1, 2, 3, 1, 1), new Relu(),
                new MaxPool2d(2, 2), new Flatten(), new Dense(18, 3, Activation.SIGMOID))) {
            seeds.add(saved("conv-dense", convDense, List.of(), ImagePreprocessing.grey(6, 6), Map.of(), scratch));
        }
        try (Model dag = everyJoin()) {
            seeds.add(saved("dag-every-layer", dag, List.of(), null, Map.of(), scratch));
        }
        try (Model kinds = Model.sequential(Shape.of(4, 7, 7), 19, new Conv2d(4, 4, 3, 3, Conv2dSpec.of(1, 1).withGroups(2)),
                new BatchNorm2d(4), Clip.relu6(), new MaxPool2d(Pool2dSpec.of(2, 2, 0).withCeilMode(true)), new AdaptiveAvgPool2d(3, 2),
                new Flatten(), new Dense(24, 3))) {
            seeds.add(saved("grouped-norm-clip-ceil-adaptive", kinds, List.of(), null, Map.of(), scratch));
        }
        try (Model mlp = Model.sequential(Shape.of(5), 13, new Dense(5, 4, Activation.RELU), new Tanh(), new Dense(4, 3),
                new Softmax())) {
            seeds.add(saved("mlp-with-classes", mlp, List.of("cat", "dog", "bird"), null, Map.of("epoch", "2"), scratch));
        }
        return seeds;
    }

    /** A small DAG holding every other layer kind and both joins. */
    private static Model everyJoin() {
        Model.Builder b = Model.builder(Shape.of(2, 5, 5));
        Node conv = b.add(new Conv2d(2, 3, 3, 3, new Conv2dSpec(1, 1, 1, 0, 1, 2, 1, 1)), b.input()); // (3, 5, 5)
        Node lrn = b.add(new Lrn(), conv);
        Node max = b.add(new MaxPool2d(3, 2), lrn); // (3, 2, 2)
        Node avg = b.add(new AvgPool2d(3, 2), lrn);
        Node flat = b.add(new Flatten(), b.add(new Concat(), max, avg)); // 24
        Node drop = b.add(new Dropout(0.25), flat);
        Node left = b.add(new Dense(24, 4, Activation.TANH), drop);
        Node right = b.add(new Sigmoid(), b.add(new Dense(24, 4), drop));
        return b.build(b.add(new Softmax(), b.add(new Add(), left, right)), 17);
    }

    private static Seed saved(String name, Model model, List<String> classes, ImagePreprocessing preprocessing,
                              Map<String, String> metadata, Path scratch) throws IOException {
        Path file = scratch.resolve("seed-" + name + ".safetensors");
        ModelFile.save(model, file, classes, preprocessing, metadata);
        return new Seed(name, Files.readAllBytes(file));
    }

    @Override
    public List<Mutator> structureMutators() {
        List<Mutator> all = new ArrayList<>(SafeTensorsMutators.all(new JsonMutations(
                SafeTensorsMutators.headerStrings(List.of("conv1.weight", "dense1.bias", "dense5.weight")),
                SafeTensorsMutators.HEADER_KEYS)));
        JsonMutations architecture = new JsonMutations(ARCHITECTURE_STRINGS, ARCHITECTURE_KEYS);
        Mutator inArchitecture = (in, r) -> embedded(in, r, ModelFile.ARCHITECTURE_KEY, architecture);
        for (int i = 0; i < 12; i++) {
            all.add(inArchitecture); // listed often: the architecture is what this format adds to safetensors
        }
        JsonMutations classes = new JsonMutations(List.of("cat", "", "x".repeat(100)), List.of("a"));
        all.add((in, r) -> embedded(in, r, ModelFile.CLASSES_KEY, classes));
        JsonMutations preprocessing = new JsonMutations(List.of("convert", "refuse", "sideways"),
                List.of("channels", "height", "width", "resize", "mean", "std", "invert", "mismatch"));
        all.add((in, r) -> embedded(in, r, ModelFile.PREPROCESSING_KEY, preprocessing));
        return all;
    }

    /** Most of a model file is JSON text; byte damage there mostly meets the JSON parser, which the safetensors fuzzer covers. */
    @Override
    public int structurePercent() {
        return 80;
    }

    /**
     * Takes the JSON held in metadata string {@code key} out of its string, mutates it, and puts it
     * back escaped, with the header length fixed: the edit reaches the architecture's reader.
     */
    static Mutation embedded(byte[] in, RandomGenerator r, String key, JsonMutations mutations) {
        SafeTensorsLayout file = SafeTensorsLayout.split(in);
        if (file == null) {
            return null;
        }
        String header = file.header();
        Value root = JsonSpans.parse(header);
        Value value = JsonSpans.member(header, JsonSpans.member(header, root, "__metadata__"), key);
        if (value == null || value.kind() != Kind.STRING) {
            return null;
        }
        String inner = JsonSpans.unescape(value.in(header));
        JsonMutations.Edit edit = inner == null ? null : mutations.mutate(inner, r);
        if (edit == null) {
            return null;
        }
        String changed = JsonMutations.splice(header, value, JsonSpans.quote(edit.text()), "").text();
        return new Mutation(file.withHeader(changed).join(), key + ": " + edit.description() + " (re-embedded, length fixed)");
    }

    @Override
    public void load(Path file, Path scratch) throws IOException {
        try (Model model = ModelFile.load(file)) {
            model.summary();
        }
        ModelFile.classes(file);
        ModelFile.preprocessing(file);
    }

    @Override
    public Class<? extends IOException> rejection() {
        return SafeTensorsException.class;
    }
}
