package dev.deepnet.nn;

import java.util.List;

/**
 * A node of a model's graph: the input (no layer), or a layer applied to earlier nodes. A node's
 * output may feed several later nodes; {@link Plan} then sums their gradients once, before the
 * node's own backward step reads it.
 */
public final class Node {

    private final int index;
    private final Layer layer; // null for the input
    private final List<Node> inputs;

    Node(int index, Layer layer, List<Node> inputs) {
        this.index = index;
        this.layer = layer;
        this.inputs = List.copyOf(inputs);
    }

    /** Position in the model's topological order (the input is 0). */
    public int index() {
        return index;
    }

    /** The layer, or null for the input node. */
    public Layer layer() {
        return layer;
    }

    public List<Node> inputs() {
        return inputs;
    }

    public boolean isInput() {
        return layer == null;
    }

    @Override
    public String toString() {
        return layer == null ? "input" : layer.name();
    }
}
