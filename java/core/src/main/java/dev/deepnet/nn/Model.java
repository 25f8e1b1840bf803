package dev.deepnet.nn;

import dev.deepnet.nativelib.Lifetime;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A network: layers in a directed acyclic graph from one input to one output. Build it with
 * {@link #sequential} or {@link #builder}; {@link #compileForTraining} or {@link #compileForInference} turns it into a
 * {@link Plan} for a batch size. The model owns its layers' parameters: close it to free them (a layer moved into another
 * model is then freed by whichever model is closed; close only one).
 *
 * <pre>{@code
 * Model net = Model.sequential(Shape.of(10), 42,
 *         new Dense(10, 3, Activation.SIGMOID), new Dense(3, 10, Activation.SIGMOID));
 * }</pre>
 */
public final class Model implements AutoCloseable {

    private final Lifetime lifetime = new Lifetime();

    private final Shape sampleShape; // one input sample, without the batch dimension
    private final List<Node> nodes; // topological order; nodes.get(0) is the input
    private final Node output;

    private Model(Shape sampleShape, List<Node> nodes, Node output) {
        this.sampleShape = sampleShape;
        this.nodes = List.copyOf(nodes);
        this.output = output;
    }

    /** A chain of layers; parameters not yet initialised are drawn from {@code seed}. */
    public static Model sequential(Shape sampleShape, long seed, Layer... layers) {
        Builder b = builder(sampleShape);
        Node n = b.input();
        for (Layer l : layers) {
            n = b.add(l, n);
        }
        return b.build(n, seed);
    }

    /** A builder for any DAG: {@code Node h = b.add(layer, b.input())} ... {@code b.build(out, seed)}. */
    public static Builder builder(Shape sampleShape) {
        return new Builder(sampleShape);
    }

    /** Builds the graph node by node; each node's inputs are nodes added before it, so order is topological. */
    public static final class Builder {
        private final Shape sampleShape;
        private final List<Node> nodes = new ArrayList<>();
        private final Set<Layer> used = Collections.newSetFromMap(new IdentityHashMap<>());

        private Builder(Shape sampleShape) {
            this.sampleShape = sampleShape;
            nodes.add(new Node(0, null, List.of()));
        }

        public Node input() {
            return nodes.get(0);
        }

        /** Applies {@code layer} to the outputs of {@code inputs}; checks the shapes fit now. */
        public Node add(Layer layer, Node... inputs) {
            if (!used.add(layer)) {
                throw new IllegalArgumentException("layer " + layer + " is already in this model; a layer appears once");
            }
            Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Node in : inputs) {
                if (in.index() >= nodes.size() || nodes.get(in.index()) != in) {
                    used.remove(layer);
                    throw new IllegalArgumentException("an input of " + layer + " is not a node of this builder");
                }
                if (!seen.add(in)) {
                    used.remove(layer);
                    throw new IllegalArgumentException(layer + " is given " + in + " twice; pass each input node once");
                }
            }
            if (layer.arity() == 1 && inputs.length != 1) {
                used.remove(layer);
                throw new IllegalArgumentException(layer + " takes one input, got " + inputs.length);
            }
            Node node = new Node(nodes.size(), layer, List.of(inputs));
            nodes.add(node);
            return node;
        }

        /**
         * The model whose output is {@code output}. Names unnamed layers (dense1, conv2, ...),
         * checks every shape for batch 1, and initialises parameters not yet initialised from
         * {@code seed} (each layer its own stream, split in order).
         */
        public Model build(Node output, long seed) {
            return build(output, seed, true);
        }

        /**
         * As {@link #build}, but leaves every parameter zero, marked initialised: for loaders, which
         * fill every parameter from a file next (drawing AlexNet's 62 million initial weights first
         * costs about half a second for nothing).
         */
        public Model buildForLoading(Node output) {
            return build(output, 0, false);
        }

        private Model build(Node output, long seed, boolean initialize) {
            Map<String, Integer> counts = new HashMap<>();
            Set<String> names = new java.util.HashSet<>();
            for (Node n : nodes) {
                if (n.isInput()) {
                    continue;
                }
                String kind = n.layer().kind();
                int k = counts.merge(kind, 1, Integer::sum);
                n.layer().nameIfUnnamed(kind + k);
                if (!names.add(n.layer().name())) {
                    throw new IllegalArgumentException("two layers are named '" + n.layer().name() + "'; names must be unique");
                }
            }
            Model model = new Model(sampleShape, nodes, output);
            model.shapes(1); // fail now, naming the layer, if anything does not fit
            SplittableRandom root = new SplittableRandom(seed);
            for (Node n : nodes) {
                if (n.isInput()) {
                    continue;
                }
                if (initialize) {
                    n.layer().initialize(root.split());
                } else {
                    n.layer().parameters().forEach(Parameter::markInitialized);
                }
            }
            return model;
        }
    }

    public Shape sampleShape() {
        return sampleShape;
    }

    /** The input shape for a batch: (batch, sample...). */
    public Shape inputShape(int batch) {
        return sampleShape.batched(batch);
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Node output() {
        return output;
    }

    /** The layers in topological order. */
    public List<Layer> layers() {
        List<Layer> out = new ArrayList<>();
        for (Node n : nodes) {
            if (!n.isInput()) {
                out.add(n.layer());
            }
        }
        return out;
    }

    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        for (Layer l : layers()) {
            out.addAll(l.parameters());
        }
        return out;
    }

    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.shape().size();
        }
        return n;
    }

    /** Every node's output shape for a batch size; throws naming the layer that does not fit. */
    public Shape[] shapes(int batch) {
        Shape[] shapes = new Shape[nodes.size()];
        shapes[0] = inputShape(batch);
        for (Node n : nodes) {
            if (!n.isInput()) {
                shapes[n.index()] = n.layer().outputShape(inputShapes(n, shapes));
            }
        }
        return shapes;
    }

    static List<Shape> inputShapes(Node n, Shape[] shapes) {
        List<Shape> in = new ArrayList<>(n.inputs().size());
        for (Node i : n.inputs()) {
            in.add(shapes[i.index()]);
        }
        return in;
    }

    /** FLOPs of one forward pass for one sample. */
    public long flopsPerSample() {
        Shape[] shapes = shapes(1);
        long total = 0;
        for (Node n : nodes) {
            if (!n.isInput()) {
                total += n.layer().flops(inputShapes(n, shapes));
            }
        }
        return total;
    }

    /** A plan that trains: forward, backward, parameter gradients; {@code seed} drives dropout masks. */
    public Plan compileForTraining(Ops ops, int batch, long seed) {
        return new Plan(this, ops, batch, Plan.Mode.TRAINING, seed, false);
    }

    /** A plan that trains and also computes the gradient with respect to the input (adversarial examples). */
    public Plan compileForTraining(Ops ops, int batch, long seed, boolean inputGradient) {
        return new Plan(this, ops, batch, Plan.Mode.TRAINING, seed, inputGradient);
    }

    /**
     * A plan that computes dLoss/dInput and nothing else, for adversarial examples and saliency:
     * the net runs as at inference (dropout off), forward records what backward needs, and no
     * parameter gradient is computed or allocated — frozen or not, the parameters are only read.
     * Write dLoss/dOutput into {@link Plan#outputGradient()}, {@link Plan#backward()}, read
     * {@link Plan#inputGradient()}.
     */
    public Plan compileForInputGradient(Ops ops, int batch) {
        return new Plan(this, ops, batch, Plan.Mode.INPUT_GRADIENT, 0, true);
    }

    /** A plan that only runs forward (no gradients, no workspaces, dropout off). */
    public Plan compileForInference(Ops ops, int batch) {
        return new Plan(this, ops, batch, Plan.Mode.INFERENCE, 0, false);
    }

    /** Layers, output shapes, parameter counts and FLOPs, one line each, for one sample. */
    public String summary() {
        Shape[] shapes = shapes(1);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-14s %-12s %-22s %14s %16s%n", "layer", "from", "output (per sample)", "parameters", "FLOPs"));
        sb.append(String.format(Locale.ROOT, "%-14s %-12s %-22s %14s %16s%n", "input", "", perSample(shapes[0]), "", ""));
        for (Node n : nodes) {
            if (n.isInput()) {
                continue;
            }
            long params = 0;
            for (Parameter p : n.layer().parameters()) {
                params += p.shape().size();
            }
            List<String> from = n.inputs().stream().map(Node::toString).toList();
            sb.append(String.format(Locale.ROOT, "%-14s %-12s %-22s %,14d %,16d%n", n.layer().name() + (isFrozen(n.layer()) ? "*" : ""),
                    String.join("+", from), perSample(shapes[n.index()]), params, n.layer().flops(inputShapes(n, shapes))));
        }
        sb.append(String.format(Locale.ROOT, "total: %,d parameters, %,d FLOPs per sample%s%n", parameterCount(), flopsPerSample(),
                layers().stream().anyMatch(Model::isFrozen) ? " (* frozen)" : ""));
        return sb.toString();
    }

    private static boolean isFrozen(Layer l) {
        return !l.parameters().isEmpty() && l.parameters().stream().allMatch(Parameter::isFrozen);
    }

    private static String perSample(Shape s) {
        long[] d = s.dims();
        StringBuilder sb = new StringBuilder("(");
        for (int i = 1; i < d.length; i++) {
            sb.append(i == 1 ? "" : ", ").append(d[i]);
        }
        return sb.append(')').toString();
    }

    /**
     * Held by every plan pass over this model (forward, backward): while one runs, {@link #close}
     * fails instead of freeing parameters that oneDNN is reading.
     */
    public Lifetime lifetime() {
        return lifetime;
    }

    /**
     * Frees every layer's parameters; later calls do nothing. Throws {@link IllegalStateException},
     * freeing nothing, while a plan on another thread runs a pass over this model. A layer moved
     * into another model whose plan is running at that moment is not freed (its parameter's close
     * throws, after the layers before it were freed): close models that share layers one after
     * the other.
     */
    @Override
    public void close() {
        if (!lifetime.end(this)) {
            return;
        }
        for (Layer l : layers()) {
            l.close();
        }
    }

    @Override
    public String toString() {
        return "Model[" + (nodes.size() - 1) + " layers, " + parameterCount() + " parameters" + (lifetime.isAlive() ? "" : ", closed") + "]";
    }
}
