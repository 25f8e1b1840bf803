package dev.deepnet.io;

import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Parameter;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's parameters and buffers in a safetensors file, named like a PyTorch {@code state_dict}:
 * {@code <layer name>.<parameter name>} ({@code conv1.weight}, {@code dense2.bias}, {@code bn1.running_mean}),
 * in model order.
 *
 * <p>Loading checks the whole file against the model first — every parameter present, F32, of
 * the right shape, and no tensor the model does not have — and only then copies: a corrupt,
 * truncated or mismatched file leaves the model exactly as it was.
 */
public final class ModelWeights {
    private ModelWeights() {}

    /** Every parameter, then every buffer (running statistics), by its file name, in model order, layer by layer. */
    public static Map<String, Parameter> named(Model model) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (Layer layer : model.layers()) {
            for (Parameter p : layer.parameters()) {
                out.put(layer.name() + "." + p.name(), p);
            }
            for (Parameter p : layer.buffers()) {
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
            Map<String, Shape> expected = new LinkedHashMap<>();
            params.forEach((name, p) -> expected.put(name, p.shape()));
            checkFits(f, expected, "the model");
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

    /** Most problems listed in one message; a hostile file may hold millions of stray tensors. */
    private static final int MAX_PROBLEMS_LISTED = 10;

    /**
     * Throws unless {@code f} holds exactly the {@code expected} tensors, each F32 of its shape. The
     * file's header has been validated ({@link SafeTensorsFile}): each tensor's bytes lie in the file,
     * sized for its shape and dtype, and no two overlap. So when this passes, every expected element
     * is backed by four bytes of the file itself: the file's size bounds what loading it allocates.
     */
    static void checkFits(SafeTensorsFile f, Map<String, Shape> expected, String what) throws SafeTensorsException {
        List<String> problems = new ArrayList<>();
        int count = 0;
        for (Map.Entry<String, Shape> e : expected.entrySet()) {
            String name = e.getKey();
            String problem = null;
            if (!f.contains(name)) {
                problem = "missing tensor '" + name + "' " + e.getValue();
            } else if (!"F32".equals(f.dtype(name))) {
                problem = "tensor '" + name + "' is " + f.dtype(name) + ", not F32";
            } else if (!Arrays.equals(f.dims(name), e.getValue().dims())) {
                problem = "tensor '" + name + "' has shape " + Arrays.toString(f.dims(name)) + " but " + what + "'s is "
                        + e.getValue();
            }
            if (problem != null && count++ < MAX_PROBLEMS_LISTED) {
                problems.add(problem);
            }
        }
        for (String name : f.names()) {
            if (!expected.containsKey(name) && count++ < MAX_PROBLEMS_LISTED) {
                problems.add("tensor " + SafeTensorsFile.quoteName(name) + " is not a parameter of " + what);
            }
        }
        if (count > 0) {
            throw new SafeTensorsException(f.file(), "does not fit " + what + " (nothing was loaded): " + String.join("; ", problems)
                    + (count > problems.size() ? "; and " + (count - problems.size()) + " more" : ""));
        }
    }
}
