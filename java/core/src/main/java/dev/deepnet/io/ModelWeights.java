package dev.deepnet.io;

import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Parameter;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's parameters in a safetensors file, named like a PyTorch {@code state_dict}:
 * {@code <layer name>.<parameter name>} ({@code conv1.weight}, {@code dense2.bias}), in model order.
 *
 * <p>Loading checks the whole file against the model first — every parameter present, F32, of
 * the right shape, and no tensor the model does not have — and only then copies: a corrupt,
 * truncated or mismatched file leaves the model exactly as it was.
 */
public final class ModelWeights {
    private ModelWeights() {}

    /** Every parameter by its file name, in model order. */
    public static Map<String, Parameter> named(Model model) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (Layer layer : model.layers()) {
            for (Parameter p : layer.parameters()) {
                out.put(layer.name() + "." + p.name(), p);
            }
        }
        return out;
    }

    /** Writes every parameter (atomically: the file appears whole or not at all). */
    public static void save(Model model, Path file, Map<String, String> metadata) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        named(model).forEach((name, p) -> tensors.put(name, p.value()));
        SafeTensors.write(file, tensors, metadata);
    }

    /** Reads every parameter from {@code file}; on any problem throws and changes nothing. */
    public static Map<String, String> load(Model model, Path file) throws IOException {
        Map<String, Parameter> params = named(model);
        try (SafeTensorsFile f = SafeTensors.read(file)) {
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                String name = e.getKey();
                if (!f.contains(name)) {
                    problems.add("missing tensor '" + name + "' " + e.getValue().shape());
                } else if (!"F32".equals(f.dtype(name))) {
                    problems.add("tensor '" + name + "' is " + f.dtype(name) + ", not F32");
                } else if (!java.util.Arrays.equals(f.dims(name), e.getValue().shape().dims())) {
                    problems.add("tensor '" + name + "' has shape " + java.util.Arrays.toString(f.dims(name)) + " but the model's is "
                            + e.getValue().shape());
                }
            }
            for (String name : f.names()) {
                if (!params.containsKey(name)) {
                    problems.add("tensor '" + name + "' is not a parameter of this model");
                }
            }
            if (!problems.isEmpty()) {
                throw new SafeTensorsException(file, "does not fit the model (nothing was loaded): " + String.join("; ", problems));
            }
            // Validated: every copy below fits. Read into staging tensors first, so that an I/O error
            // part-way (a file truncated after the header was read) still changes nothing.
            Map<Parameter, Tensor> staged = new LinkedHashMap<>();
            try {
                for (Map.Entry<String, Parameter> e : params.entrySet()) {
                    staged.put(e.getValue(), f.load(e.getKey()));
                }
                staged.forEach((p, t) -> p.value().copyFrom(t));
            } finally {
                staged.values().forEach(Tensor::close);
            }
            return f.metadata();
        }
    }
}
