package dev.deepnet.fuzz;

import dev.deepnet.fuzz.SafeTensorsLayout.Tensor;
import dev.deepnet.io.ModelWeights;
import dev.deepnet.io.SafeTensors;
import dev.deepnet.io.SafeTensorsException;
import dev.deepnet.io.SafeTensorsFile;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Activation;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Safetensors files through {@link SafeTensors#read} / {@link SafeTensorsFile} (every name,
 * dtype, shape and F32 tensor read) and, for files naming exactly a small model's parameters,
 * {@link ModelWeights#load}. The corpus: tensors of many dtypes and shapes (scalar, empty,
 * sub-byte) built by the specification, files from the library's own writers, and edge cases
 * (no tensors, metadata only).
 */
public final class SafeTensorsFuzzFormat implements FuzzFormat {

    private Model weightsTarget; // built on first use; a child JVM keeps it until it exits

    @Override
    public String name() {
        return "safetensors";
    }

    /** The model whose weights one seed holds and ModelWeights.load is tried on. */
    static Model smallMlp() {
        return Model.sequential(Shape.of(4), 7, new Dense(4, 3, Activation.RELU), new Dense(3, 2));
    }

    @Override
    public List<Seed> seeds(Path scratch) throws IOException {
        List<Seed> seeds = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("note", "caf\u00e9");
        seeds.add(new Seed("mixed-dtypes", SafeTensorsLayout.build(List.of(
                new Tensor("a.weight", "F32", 2, 3), new Tensor("half", "F16", 4), new Tensor("brain", "BF16", 2, 2),
                new Tensor("ids", "I64", 3), new Tensor("bytes", "U8", 5), new Tensor("mask", "BOOL", 2),
                new Tensor("scalar", "F64"), new Tensor("empty", "I32", 0, 3), new Tensor("nibbles", "F4", 4),
                new Tensor("six", "F6_E2M3", 4), new Tensor("fp8", "F8_E4M3", 2, 1)), metadata, 1)));
        seeds.add(new Seed("f32-rank4", SafeTensorsLayout.build(List.of(new Tensor("conv.weight", "F32", 2, 1, 2, 2),
                new Tensor("conv.bias", "F32", 2)), Map.of(), 2)));
        seeds.add(new Seed("no-tensors", SafeTensorsLayout.build(List.of(), Map.of(), 3)));
        seeds.add(new Seed("metadata-only", SafeTensorsLayout.build(List.of(), Map.of("epoch", "12"), 4)));

        Path written = scratch.resolve("seed-written.safetensors");
        try (dev.deepnet.tensor.Tensor a = dev.deepnet.tensor.Tensor.of(Shape.of(3, 4), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
             dev.deepnet.tensor.Tensor b = dev.deepnet.tensor.Tensor.of(Shape.of(2), -1.5f, 2.5f)) {
            Map<String, dev.deepnet.tensor.Tensor> tensors = new LinkedHashMap<>();
            tensors.put("fc.weight", a);
            tensors.put("fc.bias", b);
            SafeTensors.write(written, tensors, Map.of("epoch", "3"));
        }
        seeds.add(new Seed("written-by-SafeTensors", Files.readAllBytes(written)));

        Path weights = scratch.resolve("seed-weights.safetensors");
        try (Model m = smallMlp()) {
            ModelWeights.save(m, weights, Map.of());
        }
        seeds.add(new Seed("written-by-ModelWeights", Files.readAllBytes(weights)));
        return seeds;
    }

    @Override
    public List<Mutator> structureMutators() {
        List<String> names = List.of("a.weight", "half", "scalar", "empty", "fc.weight", "fc.bias", "dense1.weight",
                "dense2.bias", "__metadata__");
        return SafeTensorsMutators.all(new JsonMutations(SafeTensorsMutators.headerStrings(names),
                java.util.stream.Stream.concat(SafeTensorsMutators.HEADER_KEYS.stream(), names.stream()).toList()));
    }

    @Override
    public void load(Path file, Path scratch) throws IOException {
        Set<String> names;
        try (SafeTensorsFile f = SafeTensors.read(file)) {
            names = Set.copyOf(f.names());
            for (String name : f.names()) {
                long[] dims = f.dims(name);
                boolean loadable = f.dtype(name).equals("F32") && dims.length > 0;
                for (long d : dims) {
                    loadable &= d > 0; // a Shape holds neither scalars nor empty tensors; SafeTensorsFile says so when asked
                }
                if (loadable) {
                    try (dev.deepnet.tensor.Tensor t = f.load(name)) {
                        t.getFlat(t.size() - 1);
                    }
                }
            }
        }
        if (weightsTarget == null) {
            weightsTarget = smallMlp();
        }
        // Only a file meant for this model says anything about ModelWeights; any other is refused by name at once.
        if (names.equals(ModelWeights.named(weightsTarget).keySet())) {
            ModelWeights.load(weightsTarget, file);
        }
    }

    @Override
    public Class<? extends IOException> rejection() {
        return SafeTensorsException.class;
    }
}
