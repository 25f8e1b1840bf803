package dev.deepnet.onnx;

import dev.deepnet.nn.AdaptiveAvgPool2d;
import dev.deepnet.nn.Add;
import dev.deepnet.nn.AvgPool2d;
import dev.deepnet.nn.Clip;
import dev.deepnet.nn.Concat;
import dev.deepnet.nn.Dropout;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Lrn;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Relu;
import dev.deepnet.nn.Sigmoid;
import dev.deepnet.nn.Softmax;
import dev.deepnet.nn.Tanh;
import dev.deepnet.onnx.OnnxImport.Variable;
import dev.deepnet.onnx.OnnxImport.Constant;
import dev.deepnet.onnx.OnnxImport.BatchNormKind;
import dev.deepnet.onnx.OnnxImport.ConvKind;
import dev.deepnet.onnx.OnnxImport.DenseKind;
import dev.deepnet.onnx.OnnxImport.Planned;
import dev.deepnet.onnx.OnnxImport.Source;
import dev.deepnet.onnx.OnnxImport.Value;
import dev.deepnet.onnx.internal.OnnxProto.AttributeProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorProto;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.BatchNormSpec;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.LrnSpec;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The op table: for each ONNX op deepnet reads, a converter that checks the node against what the
 * deepnet layer computes and plans that layer (or aliases its output: Identity). A converter
 * reads every attribute it supports, refuses values it does not, and leaves the rest unread, which
 * {@link OnnxNode#checkAllRead} then refuses. Adding an op is one method and one table entry;
 * semantics that changed between opsets 11 and 21 are handled where they changed (Softmax's axis
 * at 13, Dropout's ratio input at 12, Reshape's allowzero at 14).
 */
final class OnnxOps {
    private OnnxOps() {}

    @FunctionalInterface
    interface Converter {
        void convert(OnnxNode node, OnnxImport graph) throws InvalidOnnx;
    }

    private static final Map<String, Converter> TABLE = new TreeMap<>(Map.ofEntries(
            Map.entry("Conv", OnnxOps::conv),
            Map.entry("BatchNormalization", OnnxOps::batchNorm),
            Map.entry("Gemm", OnnxOps::gemm),
            Map.entry("MatMul", OnnxOps::matMul),
            Map.entry("Add", OnnxOps::add),
            Map.entry("Sum", OnnxOps::sum),
            Map.entry("Relu", (n, g) -> activation(n, g, Activation.RELU)),
            Map.entry("Sigmoid", (n, g) -> activation(n, g, Activation.SIGMOID)),
            Map.entry("Tanh", (n, g) -> activation(n, g, Activation.TANH)),
            Map.entry("Clip", OnnxOps::clip),
            Map.entry("MaxPool", (n, g) -> pool(n, g, true)),
            Map.entry("AveragePool", (n, g) -> pool(n, g, false)),
            Map.entry("GlobalAveragePool", OnnxOps::globalAveragePool),
            Map.entry("LRN", OnnxOps::lrn),
            Map.entry("Softmax", OnnxOps::softmax),
            Map.entry("Flatten", OnnxOps::flatten),
            Map.entry("Reshape", OnnxOps::reshape),
            Map.entry("Concat", OnnxOps::concat),
            Map.entry("Dropout", OnnxOps::dropout),
            Map.entry("Identity", (n, g) -> g.define(n, 0, g.value(n, 0))),
            Map.entry("Constant", OnnxOps::constant)));

    static boolean supports(String opType) {
        return TABLE.containsKey(opType);
    }

    /** The op types deepnet reads, sorted. */
    static List<String> supported() {
        return List.copyOf(TABLE.keySet());
    }

    static Converter converter(String opType) {
        return TABLE.get(opType); // rejectUnknownOps has refused any other
    }

    // ---------------------------------------------------------------- convolution and dense

    private static void conv(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        int rank = x.shape().rank();
        if (rank != 4) {
            throw n.unsupported("a convolution of a rank-" + rank + " input (only 2-D: (N, C, H, W))");
        }
        int group = n.integer("group", 1, 1, Integer.MAX_VALUE);
        long channels = x.shape().dim(1);
        if (channels % group != 0) {
            throw n.invalid("attribute group = " + group + " does not divide the input's " + channels + " channels");
        }
        Initializer w = g.constant(n, 1, "the weight");
        if (w == null) {
            throw n.invalid("input 1 (the weight) is missing");
        }
        w.require(Initializer.FLOAT, n.where() + ": the weight");
        long[] wd = w.dims();
        if (wd.length != 4 || wd[1] != channels / group || wd[0] < 1 || wd[0] % group != 0 || wd[2] < 1 || wd[3] < 1
                || max(wd) > Integer.MAX_VALUE) {
            throw n.invalid("weight " + Initializer.describeShape(wd) + " does not fit input " + OnnxImport.perSample(x.shape())
                    + (group == 1 ? "" : " in " + group + " groups") + " (expected (M, " + channels / group + ", kH, kW)"
                    + (group == 1 ? "" : " with M a multiple of " + group) + ")");
        }
        int[] kernel = n.ints("kernel_shape", 1, Integer.MAX_VALUE);
        if (kernel != null && (kernel.length != 2 || kernel[0] != wd[2] || kernel[1] != wd[3])) {
            throw n.invalid("kernel_shape " + Arrays.toString(kernel) + " is not the weight's (" + wd[2] + ", " + wd[3] + ")");
        }
        int[] strides = pair(n, "strides");
        int[] dilations = pair(n, "dilations");
        int[] span = {(int) Math.min(Integer.MAX_VALUE, (wd[2] - 1) * dilations[0] + 1),
            (int) Math.min(Integer.MAX_VALUE, (wd[3] - 1) * dilations[1] + 1)};
        int[] pads = pads(n, x.shape(), span, strides);
        Initializer b = g.constant(n, 2, "the bias");
        if (b != null) {
            b.require(Initializer.FLOAT, n.where() + ": the bias");
            if (b.rank() != 1 || b.dims()[0] != wd[0]) {
                throw n.invalid("bias " + Initializer.describeShape(b.dims()) + " does not fit " + wd[0] + " output channels");
            }
        }
        Conv2dSpec spec;
        try {
            spec = new Conv2dSpec(strides[0], strides[1], pads[0], pads[1], pads[2], pads[3], dilations[0], dilations[1], group);
        } catch (IllegalArgumentException e) {
            throw n.invalid(e.getMessage());
        }
        g.layer(n, new ConvKind((int) channels, (int) wd[0], (int) wd[2], (int) wd[3], spec), Source.of(w),
                b == null ? null : Source.of(b), x);
    }

    /**
     * BatchNormalization at inference: the scale, B, mean and variance constants (C each) become a
     * BatchNorm2d's weight, bias and running statistics. ONNX's momentum weighs the running value
     * (running * momentum + batch * (1 - momentum)), deepnet's and PyTorch's the batch's: 1 - it.
     */
    private static void batchNorm(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        if (x.shape().rank() != 4) {
            throw n.unsupported("batch normalisation of a rank-" + x.shape().rank() + " input (only (N, C, H, W))");
        }
        float epsilon = n.real("epsilon", 1e-5f);
        float momentum = n.real("momentum", 0.9f);
        if (n.opset() >= 14 && n.integer("training_mode", 0, 0, 1) == 1) {
            throw n.unsupported("training_mode = 1 (normalising with the batch's statistics at inference)");
        }
        g.unusedOutputs(n, 1, "the running statistics of training mode");
        long channels = x.shape().dim(1);
        String[] roles = {"the scale", "the bias B", "the mean", "the variance"};
        Source[] sources = new Source[4];
        for (int i = 0; i < 4; i++) {
            Initializer t = g.constant(n, i + 1, roles[i]);
            if (t == null) {
                throw n.invalid("input " + (i + 1) + " (" + roles[i] + ") is missing");
            }
            t.require(Initializer.FLOAT, n.where() + ": " + roles[i]);
            if (t.rank() != 1 || t.dims()[0] != channels) {
                throw n.invalid(roles[i] + " " + Initializer.describeShape(t.dims()) + " does not fit " + channels + " channels");
            }
            sources[i] = Source.of(t);
        }
        BatchNormSpec spec;
        try {
            spec = new BatchNormSpec(epsilon, 1 - momentum);
        } catch (IllegalArgumentException e) {
            throw n.unsupported("epsilon " + epsilon + " and momentum " + momentum + " (" + e.getMessage() + ")");
        }
        Planned p = g.layer(n, new BatchNormKind((int) channels, spec), sources[0], sources[1], x);
        p.buffers = List.of(sources[2], sources[3]);
    }

    /** Gemm as a dense layer: Y = alpha A B' + beta C with A the activations (N, K), B' = B or its transpose. */
    private static void gemm(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable a = g.variable(n, 0);
        if (a.shape().rank() != 2) {
            throw n.invalid("input A must be (N, K), is " + OnnxImport.perSample(a.shape()));
        }
        if (n.integer("transA", 0, 0, 1) != 0) {
            throw n.unsupported("attribute transA = 1 (the batch must be A's first dimension)");
        }
        boolean transB = n.integer("transB", 0, 0, 1) == 1;
        float alpha = n.real("alpha", 1f);
        float beta = n.real("beta", 1f);
        Initializer b = g.constant(n, 1, "input B");
        if (b == null) {
            throw n.invalid("input 1 (B) is missing");
        }
        b.require(Initializer.FLOAT, n.where() + ": input B");
        long[] bd = b.dims();
        long k = a.shape().dim(1);
        if (bd.length != 2 || bd[transB ? 1 : 0] != k || bd[transB ? 0 : 1] < 1 || max(bd) > Integer.MAX_VALUE) {
            throw n.invalid("input B " + Initializer.describeShape(bd) + (transB ? " (transposed)" : "") + " does not fit A "
                    + OnnxImport.perSample(a.shape()));
        }
        int out = (int) bd[transB ? 0 : 1];
        Source weight = new Source(b, transB ? Source.Fill.AS_IS : Source.Fill.TRANSPOSED, alpha);
        Source bias = null;
        Initializer c = g.constant(n, 2, "input C");
        if (c != null) {
            bias = bias(n, c, out, false, "input C");
            bias = new Source(bias.tensor(), bias.fill(), beta);
        }
        g.layer(n, new DenseKind((int) k, out), weight, bias, a);
    }

    /** MatMul of the activations (N, K) and a constant (K, M): a dense layer with no bias, until an Add gives it one. */
    private static void matMul(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable a = g.variable(n, 0);
        if (a.shape().rank() != 2) {
            throw n.unsupported("MatMul of a rank-" + a.shape().rank() + " input (only (N, K) times a constant (K, M))");
        }
        Initializer b = g.constant(n, 1, "input B");
        if (b == null) {
            throw n.invalid("input 1 (B) is missing");
        }
        b.require(Initializer.FLOAT, n.where() + ": input B");
        long[] bd = b.dims();
        if (bd.length != 2 || bd[0] != a.shape().dim(1) || bd[1] < 1 || bd[1] > Integer.MAX_VALUE) {
            throw n.invalid("input B " + Initializer.describeShape(bd) + " does not fit A " + OnnxImport.perSample(a.shape()));
        }
        g.layer(n, new DenseKind((int) bd[0], (int) bd[1]), new Source(b, Source.Fill.TRANSPOSED, 1f), null, a);
    }

    /**
     * A bias for {@code out} outputs from constant {@code c}: (out), (1, out) for dense layers,
     * (out, 1, 1) or (1, out, 1, 1) for convolutions, or a single value broadcast; unsupported otherwise.
     */
    private static Source bias(OnnxNode n, Initializer c, long out, boolean conv, String what) throws InvalidOnnx {
        c.require(Initializer.FLOAT, n.where() + ": " + what);
        long[] d = c.dims();
        if (c.elements() == 1 && d.length <= (conv ? 4 : 2)) { // one value added everywhere
            return new Source(c, Source.Fill.BROADCAST, 1f);
        }
        boolean fits = c.elements() == out && d.length >= 1 && (conv
                ? d.length >= 3 && d.length <= 4 && d[d.length - 3] == out
                : d[d.length - 1] == out && d.length <= 2);
        if (!fits) {
            throw n.unsupported(what + " " + Initializer.describeShape(d) + " (a bias broadcasts over the batch"
                    + (conv ? " and the image: (C, 1, 1)" : ": (" + out + ") or (1, " + out + ")") + ")");
        }
        return Source.of(c);
    }

    /**
     * A nonlinearity: folded into the dense layer before it when nothing else reads that layer's
     * output (how deepnet writes a dense layer with an activation), else a layer of its own.
     */
    private static void activation(OnnxNode n, OnnxImport g, Activation f) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        Planned p = g.producer(x);
        if (g.foldable(x) && p.kind instanceof DenseKind && p.activation == Activation.LINEAR) {
            p.activation = f;
            g.folded(n, x);
            return;
        }
        g.layer(n, switch (f) {
            case RELU -> new Relu();
            case SIGMOID -> new Sigmoid();
            case TANH -> new Tanh();
            case LINEAR -> throw new IllegalArgumentException("no layer for LINEAR");
        }, x);
    }

    /**
     * Clip with constant bounds (inputs from opset 11 on; absent: no bound): a Clip layer, ReLU6 for
     * (0, 6); with only a lower bound of 0, a Relu.
     */
    private static void clip(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        float min = -Float.MAX_VALUE;
        float max = Float.MAX_VALUE;
        Initializer lo = g.constant(n, 1, "min");
        if (lo != null) {
            min = lo.scalarFloat(n.where() + ": min");
        }
        Initializer hi = g.constant(n, 2, "max");
        if (hi != null) {
            max = hi.scalarFloat(n.where() + ": max");
        }
        if (!(min <= max) || Float.isNaN(min) || Float.isNaN(max)) {
            throw n.unsupported("min " + min + " above max " + max + " (every value would be max)");
        }
        if (min == 0f && hi == null) {
            activation(n, g, Activation.RELU);
            return;
        }
        g.layer(n, new Clip(Math.max(min, -Float.MAX_VALUE), Math.min(max, Float.MAX_VALUE)), x);
    }

    // ---------------------------------------------------------------- joins

    /**
     * Add of two activations of one shape is a join; an activation plus a constant is the bias of
     * the MatMul or bias-free Conv that computes the activation, when nothing else reads it.
     */
    private static void add(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Value left = g.value(n, 0);
        Value right = g.value(n, 1);
        if (left instanceof Variable a && right instanceof Variable b) {
            join(n, g, List.of(a, b));
            return;
        }
        if (left instanceof Constant && right instanceof Constant) {
            throw n.unsupported("adding two constants (deepnet folds no constants)");
        }
        Variable a = left instanceof Variable x ? x : (Variable) right;
        Initializer c = (left instanceof Constant k ? k : (Constant) right).tensor();
        Planned p = g.producer(a);
        if (!g.foldable(a) || p.bias != null || p.activation != Activation.LINEAR) {
            throw n.unsupported("adding a constant, except as the bias of the MatMul or bias-free Conv whose output only it reads"
                    + " (before any activation)");
        }
        boolean conv = p.kind instanceof ConvKind;
        long out = conv ? ((ConvKind) p.kind).out() : ((DenseKind) p.kind).out();
        p.bias = bias(n, c, out, conv, "the constant added");
        g.folded(n, a);
    }

    private static void sum(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        List<Variable> in = new ArrayList<>();
        for (int i = 0; i < n.inputCount(); i++) {
            in.add(g.variable(n, i));
        }
        if (in.isEmpty()) {
            throw n.invalid("has no inputs");
        }
        if (in.size() == 1) {
            g.define(n, 0, in.get(0));
            return;
        }
        join(n, g, in);
    }

    private static void join(OnnxNode n, OnnxImport g, List<Variable> in) throws InvalidOnnx {
        for (Variable a : in) {
            if (!a.shape().equals(in.get(0).shape())) {
                throw n.unsupported("broadcasting " + OnnxImport.perSample(in.get(0).shape()) + " and " + OnnxImport.perSample(a.shape())
                        + " (inputs of one shape only)");
            }
        }
        g.layer(n, new Add(), in.toArray(Variable[]::new));
    }

    private static void concat(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        List<Variable> in = new ArrayList<>();
        for (int i = 0; i < n.inputCount(); i++) {
            in.add(g.variable(n, i));
        }
        if (in.isEmpty()) {
            throw n.invalid("has no inputs");
        }
        if (!n.has("axis")) {
            throw n.invalid("attribute axis is missing");
        }
        int rank = in.get(0).shape().rank();
        int axis = axis(n, n.integer("axis", 1), rank, rank - 1);
        if (axis != 1) {
            throw n.unsupported("attribute axis = " + axis + " (only 1, the channels or features)");
        }
        if (in.size() == 1) {
            g.define(n, 0, in.get(0));
            return;
        }
        g.layer(n, new Concat(), in.toArray(Variable[]::new));
    }

    // ---------------------------------------------------------------- pooling, LRN, softmax

    private static void pool(OnnxNode n, OnnxImport g, boolean max) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        if (x.shape().rank() != 4) {
            throw n.unsupported("pooling a rank-" + x.shape().rank() + " input (only 2-D: (N, C, H, W))");
        }
        int[] kernel = n.ints("kernel_shape", 1, Integer.MAX_VALUE);
        if (kernel == null || kernel.length != 2) {
            throw n.invalid("attribute kernel_shape must have 2 values, got " + (kernel == null ? "none" : Arrays.toString(kernel)));
        }
        int[] strides = pair(n, "strides");
        int[] dilations = pair(n, "dilations");
        if (dilations[0] != 1 || dilations[1] != 1) {
            throw n.unsupported("attribute dilations = " + Arrays.toString(dilations));
        }
        boolean countPadding = !max && n.integer("count_include_pad", 0, 0, 1) == 1;
        if (max) {
            n.ignore("storage_order"); // the layout of the Indices output, which must be unused
            g.unusedOutputs(n, 1, "the indices");
        }
        int[] pads = pads(n, x.shape(), kernel, strides);
        boolean ceil = n.integer("ceil_mode", 0, 0, 1) == 1;
        Pool2dSpec spec;
        try {
            spec = new Pool2dSpec(kernel[0], kernel[1], strides[0], strides[1], pads[0], pads[1], pads[2], pads[3], countPadding);
            if (ceil && !spec.withCountPadding(false).withCeilMode(true).outputShape(x.shape()).equals(spec.outputShape(x.shape()))) {
                if (countPadding && Arrays.stream(pads).anyMatch(p -> p != 0)) {
                    throw n.unsupported("ceil_mode = 1 with count_include_pad = 1 and padding where it adds a window");
                }
                spec = spec.withCeilMode(true); // only where it adds a window: the same pooling otherwise
            }
        } catch (IllegalArgumentException e) {
            throw n.unsupported("this window, stride and padding (" + e.getMessage() + ")");
        }
        g.layer(n, max ? new MaxPool2d(spec) : new AvgPool2d(spec), x);
    }

    private static void globalAveragePool(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        if (x.shape().rank() != 4) {
            throw n.unsupported("global pooling of a rank-" + x.shape().rank() + " input (only 2-D: (N, C, H, W))");
        }
        g.layer(n, AdaptiveAvgPool2d.global(), x);
    }

    private static void lrn(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        if (x.shape().rank() != 4) {
            throw n.unsupported("LRN of a rank-" + x.shape().rank() + " input (only (N, C, H, W))");
        }
        if (!n.has("size")) {
            throw n.invalid("attribute size is missing");
        }
        int size = n.integer("size", 1, 1, Integer.MAX_VALUE);
        if (size % 2 == 0) {
            throw n.unsupported("attribute size = " + size + " (an even window is off centre; deepnet's LRN is centred)");
        }
        float alpha = n.real("alpha", 1e-4f);
        float beta = n.real("beta", 0.75f);
        float bias = n.real("bias", 1f);
        LrnSpec spec;
        try {
            spec = new LrnSpec(size, alpha, beta, bias); // ONNX divides alpha by size, as deepnet does
        } catch (IllegalArgumentException e) {
            throw n.unsupported("these settings (" + e.getMessage() + ")");
        }
        g.layer(n, new Lrn(spec), x);
    }

    /**
     * deepnet's softmax runs over dimension 1. Before opset 13, ONNX's runs over dimensions axis...
     * flattened (default axis 1); from 13 on, over dimension axis alone (default -1).
     */
    private static void softmax(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        Shape s = x.shape();
        long given = n.integer("axis", n.opset() >= 13 ? -1 : 1);
        int axis = axis(n, given, s.rank(), s.rank() - 1);
        boolean trailingOnes = true;
        for (int d = 2; d < s.rank(); d++) {
            trailingOnes &= s.dim(d) == 1;
        }
        if (axis != 1 || (n.opset() < 13 && !trailingOnes)) {
            throw n.unsupported("softmax over axis " + given + " of " + OnnxImport.perSample(s) + (n.opset() < 13 ? " flattened" : "")
                    + " (deepnet's softmax runs over dimension 1 alone)");
        }
        g.layer(n, new Softmax(), x);
    }

    // ---------------------------------------------------------------- shapes and identities

    private static void flatten(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        int axis = axis(n, n.integer("axis", 1), x.shape().rank(), x.shape().rank());
        if (axis != 1) {
            throw n.unsupported("attribute axis = " + axis + " (only 1: the batch stays, the rest becomes one vector)");
        }
        g.layer(n, new Flatten(), x);
    }

    /** Reshape that keeps the batch and flattens the rest: (N, -1), (0, -1), (-1, K) and their like. */
    private static void reshape(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        Initializer shape = g.constant(n, 1, "the shape");
        if (shape == null) {
            throw n.invalid("input 1 (the shape) is missing");
        }
        if (shape.rank() != 1) {
            throw n.invalid("the shape must be 1-D, is " + Initializer.describeShape(shape.dims()));
        }
        long[] target = shape.int64s(16, n.where() + ": the shape");
        boolean allowZero = n.opset() >= 14 && n.integer("allowzero", 0, 0, 1) == 1;
        long rest = x.shape().size(); // batch 1: the elements of one sample
        boolean flat = target.length == 2 && !allowZero;
        if (flat) {
            long t0 = target[0];
            long t1 = target[1] == 0 ? (x.shape().rank() > 1 ? x.shape().dim(1) : -2) : target[1];
            boolean batchKept = t0 == 0 || (t0 == -1 && t1 > 0) || (t0 > 0 && t0 == g.fixedBatch());
            flat = batchKept && (t1 == rest || (t1 == -1 && t0 != -1));
        }
        if (!flat) {
            throw n.unsupported("Reshape of " + OnnxImport.perSample(x.shape()) + " to " + Arrays.toString(target)
                    + (allowZero ? " with allowzero = 1" : "") + " (only to (N, -1): the batch stays, the rest becomes one vector)");
        }
        g.layer(n, new Flatten(), x);
    }

    /** Dropout passes its input through at inference; deepnet's layer keeps the ratio for fine-tuning. */
    private static void dropout(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        Variable x = g.variable(n, 0);
        float ratio = 0.5f;
        if (n.opset() < 12) {
            ratio = n.real("ratio", 0.5f);
        } else {
            n.ignore("seed");
            Initializer r = g.constant(n, 1, "the ratio");
            if (r != null) {
                ratio = r.scalarFloat(n.where() + ": the ratio");
            }
            Initializer training = g.constant(n, 2, "training_mode");
            if (training != null && training.scalarBool(n.where() + ": training_mode")) {
                throw n.unsupported("training_mode = true (dropout at inference)");
            }
        }
        if (!(ratio >= 0 && ratio < 1)) {
            throw n.unsupported("ratio " + ratio + " (deepnet drops with a probability in [0, 1))");
        }
        g.unusedOutputs(n, 1, "the mask");
        g.layer(n, new Dropout(ratio), x);
    }

    /** A constant tensor from value, or (opset 12 on) value_float(s) / value_int(s). */
    private static void constant(OnnxNode n, OnnxImport g) throws InvalidOnnx {
        List<String> given = new ArrayList<>();
        for (String a : List.of("value", "value_float", "value_floats", "value_int", "value_ints", "sparse_value", "value_string",
                "value_strings")) {
            if (n.has(a)) {
                given.add(a);
            }
        }
        if (given.size() != 1) {
            throw n.invalid("needs exactly one value attribute, has " + (given.isEmpty() ? "none" : given));
        }
        TensorProto t;
        switch (given.get(0)) {
            case "value" -> t = n.tensorAttribute("value").getT();
            case "value_float" -> t = TensorProto.newBuilder().setDataType(Initializer.FLOAT).addFloatData(n.real("value_float", 0f)).build();
            case "value_floats" -> {
                AttributeProto a = n.floatsAttribute("value_floats");
                t = TensorProto.newBuilder().setDataType(Initializer.FLOAT).addDims(a.getFloatsCount()).addAllFloatData(a.getFloatsList()).build();
            }
            case "value_int" -> t = TensorProto.newBuilder().setDataType(Initializer.INT64).addInt64Data(n.integer("value_int", 0)).build();
            case "value_ints" -> {
                AttributeProto a = n.intsAttribute("value_ints");
                t = TensorProto.newBuilder().setDataType(Initializer.INT64).addDims(a.getIntsCount()).addAllInt64Data(a.getIntsList()).build();
            }
            default -> throw n.unsupported("attribute " + given.get(0));
        }
        g.define(n, 0, new Constant(Initializer.of(t, n.where() + ": the value", g.folder())));
    }

    // ---------------------------------------------------------------- attributes shared by ops

    /** A two-value attribute, each >= 1, default (1, 1): strides, dilations. */
    private static int[] pair(OnnxNode n, String name) throws InvalidOnnx {
        int[] v = n.ints(name, 1, Integer.MAX_VALUE);
        if (v == null) {
            return new int[] {1, 1};
        }
        if (v.length != 2) {
            throw n.unsupported("attribute " + name + " " + Arrays.toString(v) + " (2-D ops take 2 values)");
        }
        return v;
    }

    /**
     * Padding {top, left, bottom, right} from pads (ONNX's order: begins, then ends) or auto_pad
     * for windows spanning {@code span} with {@code strides} over x (N, C, H, W).
     */
    private static int[] pads(OnnxNode n, Shape x, int[] span, int[] strides) throws InvalidOnnx {
        String autoPad = n.string("auto_pad", "NOTSET");
        int[] pads = n.ints("pads", 0, Integer.MAX_VALUE);
        if (pads != null && pads.length != 4) {
            throw n.invalid("attribute pads " + Arrays.toString(pads) + " must have 4 values for a 2-D op");
        }
        if (!autoPad.equals("NOTSET") && pads != null && Arrays.stream(pads).anyMatch(p -> p != 0)) {
            throw n.invalid("attributes pads and auto_pad " + Initializer.abbreviate(autoPad) + " exclude each other");
        }
        switch (autoPad) {
            case "NOTSET" -> {
                return pads == null ? new int[4] : pads;
            }
            case "VALID" -> {
                return new int[4];
            }
            case "SAME_UPPER", "SAME_LOWER" -> {
                int[] out = new int[4];
                for (int d = 0; d < 2; d++) {
                    long in = x.dim(2 + d);
                    long o = (in + strides[d] - 1) / strides[d];
                    long total = Math.max(0, (o - 1) * strides[d] + span[d] - in);
                    if (total > Integer.MAX_VALUE) {
                        throw n.invalid("auto_pad needs more padding than an int holds");
                    }
                    int small = (int) (total / 2);
                    int big = (int) (total - small);
                    boolean upper = autoPad.equals("SAME_UPPER"); // the extra padding at the end
                    out[d] = upper ? small : big;
                    out[d + 2] = upper ? big : small;
                }
                return out;
            }
            default -> throw n.invalid("attribute auto_pad is '" + Initializer.abbreviate(autoPad)
                    + "' (NOTSET, SAME_UPPER, SAME_LOWER or VALID)");
        }
    }

    /** {@code axis} in [-rank, max], as a dimension from 0. */
    private static int axis(OnnxNode n, long axis, int rank, int max) throws InvalidOnnx {
        if (axis < -rank || axis > max) {
            throw n.invalid("axis " + axis + " is out of range for rank " + rank);
        }
        return (int) (axis < 0 ? axis + rank : axis);
    }

    private static long max(long[] v) {
        return Arrays.stream(v).max().orElse(0);
    }
}
