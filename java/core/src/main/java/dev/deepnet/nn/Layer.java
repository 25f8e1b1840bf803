package dev.deepnet.nn;

import dev.deepnet.ops.Ops;

import dev.deepnet.tensor.Shape;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A layer: what it computes and the parameters it learns. Layers describe; a {@link Plan} runs
 * them. Shapes here include the batch dimension: (N, features) or (N, C, H, W). A layer owns its
 * parameters (close the model, or the layer, to free them) and may be moved from one model into
 * another with what it has learned.
 */
public abstract class Layer implements AutoCloseable {

    private String name;

    /** Its name in summaries, errors and saved files; the model names unnamed layers (dense1, conv2, ...). */
    public final String name() {
        return name;
    }

    /** Gives this layer a name (letters, digits, '_' and '.'); returns this. */
    public final Layer named(String name) {
        if (name == null || !name.matches("[A-Za-z0-9_.]+")) {
            throw new IllegalArgumentException("a layer name is letters, digits, '_' and '.', not '" + name + "'");
        }
        this.name = name;
        return this;
    }

    void nameIfUnnamed(String fallback) {
        if (name == null) {
            name = fallback;
        }
    }

    /** A short lowercase kind for default names: "dense", "conv". */
    abstract String kind();

    /** How many inputs the layer takes: 1, or -1 for joins that take two or more. */
    int arity() {
        return 1;
    }

    /** The learnable parameters, in a fixed order. */
    public List<Parameter> parameters() {
        return List.of();
    }

    /**
     * State the layer keeps that gradients do not train but that belongs to what it has learned
     * (PyTorch's buffers: batch normalisation's running statistics), in a fixed order: saved and
     * loaded with the parameters, never given to an optimizer, always frozen.
     */
    public List<Parameter> buffers() {
        return List.of();
    }

    /** Freezes every parameter: no gradient is computed for them and optimizers leave them alone. */
    public final Layer freeze() {
        parameters().forEach(p -> p.setFrozen(true));
        return this;
    }

    public final Layer unfreeze() {
        parameters().forEach(p -> p.setFrozen(false));
        return this;
    }

    /** The output shape for these input shapes; throws naming this layer and the shapes when they do not fit. */
    public abstract Shape outputShape(List<Shape> inputs);

    /** Multiply-adds count 2: FLOPs of one forward pass for these input shapes. */
    public long flops(List<Shape> inputs) {
        return 0;
    }

    /** Fills parameters not yet initialised (a transplanted layer keeps its values). */
    void initialize(SplittableRandom random) {}

    /** Builds this layer's work for fixed input shapes. */
    abstract Step step(StepContext context, List<Shape> inputs);

    /**
     * How a layer's step treats a backend's own memory layouts ({@link dev.deepnet.tensor.Layout}),
     * which a plan on oneDNN keeps between the layers that take them so that nothing converts
     * between consecutive oneDNN steps.
     */
    enum LayoutRule {
        /** Inputs row-major, output row-major: the plan converts inputs in another layout first. The default. */
        ROW_MAJOR,
        /** Inputs in any one common layout, output in that layout (element-wise ops, pooling, LRN, add). */
        KEEPS,
        /** Inputs in any layout, output in {@link #outputLayout}'s (convolution; flatten: row-major out). */
        OWN
    }

    LayoutRule layoutRule() {
        return LayoutRule.ROW_MAJOR;
    }

    /** The rule for these input shapes, for a layer whose ops take layouts only for some (adaptive pooling); by default {@link #layoutRule()}. */
    LayoutRule layoutRule(List<Shape> inputs) {
        return layoutRule();
    }

    /** For {@link LayoutRule#OWN} layers: the layout to keep the output in (null: row-major). */
    dev.deepnet.tensor.Layout outputLayout(Ops ops, List<Shape> inputs) {
        return null;
    }

    /** An IllegalArgumentException whose message starts with this layer's name. */
    final IllegalArgumentException shapeError(String message) {
        return new IllegalArgumentException((name == null ? kind() : name) + ": " + message);
    }

    /** Checks there is one input of the given rank and returns it. */
    final Shape single(List<Shape> inputs, int rank, String layout) {
        if (inputs.size() != 1) {
            throw shapeError("takes 1 input, got " + inputs.size());
        }
        Shape s = inputs.get(0);
        if (rank > 0 && s.rank() != rank) {
            throw shapeError("expects input " + layout + " but got " + s);
        }
        return s;
    }

    /** The output shape of pooling with {@code spec} on one (N, C, H, W) input, errors naming this layer. */
    final Shape pooled(dev.deepnet.ops.Pool2dSpec spec, List<Shape> inputs) {
        Shape x = single(inputs, 4, "(N, C, H, W)");
        try {
            return spec.outputShape(x);
        } catch (IllegalArgumentException e) {
            throw shapeError(e.getMessage());
        }
    }

    @Override
    public void close() {
        parameters().forEach(Parameter::close);
        buffers().forEach(Parameter::close);
    }

    @Override
    public String toString() {
        return (name == null ? kind() : name);
    }
}
