package dev.deepnet.onnx;

import dev.deepnet.onnx.internal.OnnxProto.AttributeProto;
import dev.deepnet.onnx.internal.OnnxProto.AttributeProto.AttributeType;
import dev.deepnet.onnx.internal.OnnxProto.NodeProto;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A node of the graph as an op converter sees it: its inputs and outputs, its attributes read with
 * their types checked, and errors that name the node, its op type and the opset. Every attribute a
 * converter does not read is refused afterwards ({@link #checkAllRead}), so an op's table entry
 * states exactly what deepnet supports of it.
 */
final class OnnxNode {

    private final NodeProto proto;
    private final int index;
    private final int opset;
    private final Map<String, AttributeProto> attributes = new LinkedHashMap<>();
    private final Set<String> read = new HashSet<>();

    private OnnxNode(NodeProto proto, int index, int opset) {
        this.proto = proto;
        this.index = index;
        this.opset = opset;
    }

    static OnnxNode of(NodeProto proto, int index, int opset) throws InvalidOnnx {
        OnnxNode n = new OnnxNode(proto, index, opset);
        for (AttributeProto a : proto.getAttributeList()) {
            if (a.hasRefAttrName()) {
                throw n.invalid("attribute '" + Initializer.abbreviate(a.getName()) + "' refers to a function's attribute; "
                        + "only function bodies may do that");
            }
            if (n.attributes.put(a.getName(), a) != null) {
                throw n.invalid("attribute '" + Initializer.abbreviate(a.getName()) + "' is given twice");
            }
        }
        return n;
    }

    String opType() {
        return proto.getOpType();
    }

    int opset() {
        return opset;
    }

    /** The node's name, or {@code #index} when it has none. */
    String name() {
        return proto.getName().isEmpty() ? "#" + index : proto.getName();
    }

    /** The node's name as given (may be empty). */
    String givenName() {
        return proto.getName();
    }

    int inputCount() {
        return proto.getInputCount();
    }

    /** Input {@code i}'s value name; "" for an optional input left out. */
    String input(int i) {
        return i < proto.getInputCount() ? proto.getInput(i) : "";
    }

    int outputCount() {
        return proto.getOutputCount();
    }

    String output(int i) {
        return i < proto.getOutputCount() ? proto.getOutput(i) : "";
    }

    /** "node 'conv2' (Conv, opset 17)": how every message about this node starts. */
    String where() {
        return "node '" + Initializer.abbreviate(name()) + "' (" + Initializer.abbreviate(opType()) + ", opset " + opset + ")";
    }

    /** A problem with this node: "node 'conv2' (Conv, opset 17): " + what. */
    InvalidOnnx invalid(String what) {
        return new InvalidOnnx(where() + ": " + what);
    }

    /** Something ONNX allows and deepnet does not do. */
    InvalidOnnx unsupported(String what) {
        return new InvalidOnnx(where() + ": " + what + " is not supported");
    }

    boolean has(String attribute) {
        return attributes.containsKey(attribute);
    }

    private AttributeProto attribute(String name, AttributeType type) throws InvalidOnnx {
        read.add(name);
        AttributeProto a = attributes.get(name);
        if (a == null) {
            return null;
        }
        // A writer may leave the type out; then the field asked for decides.
        if (a.hasType() && a.getType() != type) {
            throw invalid("attribute " + name + " must be " + type + ", is " + a.getType());
        }
        return a;
    }

    long integer(String name, long fallback) throws InvalidOnnx {
        AttributeProto a = attribute(name, AttributeType.INT);
        return a == null ? fallback : a.getI();
    }

    /** An int attribute within [min, max]. */
    int integer(String name, int fallback, int min, int max) throws InvalidOnnx {
        long v = integer(name, fallback);
        if (v < min || v > max) {
            throw invalid("attribute " + name + " must be from " + min + " to " + max + ", got " + v);
        }
        return (int) v;
    }

    float real(String name, float fallback) throws InvalidOnnx {
        AttributeProto a = attribute(name, AttributeType.FLOAT);
        return a == null ? fallback : a.getF();
    }

    String string(String name, String fallback) throws InvalidOnnx {
        AttributeProto a = attribute(name, AttributeType.STRING);
        return a == null ? fallback : a.getS().toStringUtf8();
    }

    /** An ints attribute, each within [min, max]; null when absent. */
    int[] ints(String name, int min, int max) throws InvalidOnnx {
        AttributeProto a = attribute(name, AttributeType.INTS);
        if (a == null) {
            return null;
        }
        if (a.getIntsCount() > 16) {
            throw invalid("attribute " + name + " has " + a.getIntsCount() + " values; a 2-D op takes at most 4");
        }
        int[] out = new int[a.getIntsCount()];
        for (int i = 0; i < out.length; i++) {
            long v = a.getInts(i);
            if (v < min || v > max) {
                throw invalid("attribute " + name + "[" + i + "] must be from " + min + " to " + max + ", got " + v);
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** A tensor attribute (Constant's value); null when absent. */
    AttributeProto tensorAttribute(String name) throws InvalidOnnx {
        return attribute(name, AttributeType.TENSOR);
    }

    AttributeProto floatsAttribute(String name) throws InvalidOnnx {
        return attribute(name, AttributeType.FLOATS);
    }

    AttributeProto intsAttribute(String name) throws InvalidOnnx {
        return attribute(name, AttributeType.INTS);
    }

    /** Marks an attribute as read whose value does not matter to deepnet (a seed, a hint). */
    void ignore(String name) {
        read.add(name);
    }

    /** Throws for the first attribute the converter did not read: an attribute deepnet does not support. */
    void checkAllRead() throws InvalidOnnx {
        for (String name : attributes.keySet()) {
            if (!read.contains(name)) {
                throw unsupported("attribute '" + Initializer.abbreviate(name) + "'");
            }
        }
    }
}
