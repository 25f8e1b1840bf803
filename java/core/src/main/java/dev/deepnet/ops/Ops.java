package dev.deepnet.ops;

import dev.deepnet.nativelib.Lifetime;
import dev.deepnet.tensor.Layout;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The operations networks are made of, each with the passes training needs.
 *
 * <p>Two implementations: {@link OneDnnOps} (oneDNN through FFM, the fast path) and
 * {@link ReferenceOps} (plain Java loops, obviously correct: the oracle for tests and the
 * fallback when oneDNN cannot load). {@link Backend} chooses. The public methods here check
 * every argument — shapes, closed tensors, workspaces — and throw before anything is written,
 * naming the operation and the expected and actual shapes; implementations then trust their
 * inputs (Lucene's façade-and-provider pattern).
 *
 * <p>Tensors are row-major — images (N, C, H, W), dense activations (N, features), dense
 * weights (out, in), conv weights (out, in, kH, kW), like PyTorch — except where a backend that
 * {@link #takesLayouts takes layouts} is handed tensors in its own {@link Layout}:
 * convolution inputs and outputs, pooling, LRN, batch normalisation, activations, add, sum, accumulate and reorder take
 * any layout this backend makes (with the layouts named equal where the method says so); dense,
 * matmul, softmax, multiply, permute and every parameter take row-major only. Backward passes overwrite
 * their outputs; accumulation across consumers is {@link #accumulate}. An instance keeps caches
 * (oneDNN primitives, scratch buffers) and is used by one thread at a time; close it to free them.
 */
public abstract class Ops implements AutoCloseable {

    /** Backend-specific state a forward pass leaves for its backward pass (max-pooling argmax, LRN sums). */
    public abstract static class Workspace implements AutoCloseable {
        final Object spec;
        final Shape input;
        final Layout layout; // of the input, null for row-major
        final Ops owner;
        final Lifetime lifetime = new Lifetime(); // held by the ops that read or write it

        protected Workspace(Ops owner, Object spec, Shape input, Layout layout) {
            this.owner = owner;
            this.spec = spec;
            this.input = input;
            this.layout = layout;
        }

        /** Frees the backend's memory; called once, when no op uses it. */
        protected abstract void free();

        /** Frees the workspace; throws {@link IllegalStateException}, freeing nothing, while an op on another thread uses it. */
        @Override
        public final void close() {
            if (lifetime.end(this)) {
                free();
            }
        }

        @Override
        public String toString() {
            return "workspace for " + spec + " on " + input + (layout == null ? "" : " " + layout);
        }
    }

    /** The most dimensions a tensor argument may have: oneDNN's DNNL_MAX_NDIMS, on every backend alike. */
    public static final int MAX_RANK = 12;

    /** "onednn" or "reference". */
    public abstract String name();

    // ---------------------------------------------------------------- dense

    /** y = x w^T + b. x (N, I), w (O, I), b (O) or null, y (N, O). */
    public final void linearForward(Tensor x, Tensor w, Tensor b, Tensor y) {
        linearForward(x, w, b, y, Activation.LINEAR);
    }

    /** y = f(x w^T + b), the activation applied as the output is written; for inference. */
    public final void linearForward(Tensor x, Tensor w, Tensor b, Tensor y, Activation f) {
        String op = "linearForward";
        rowMajor(op, "x", x);
        rowMajor(op, "w", w);
        rowMajor(op, "b", b);
        rowMajor(op, "y", y);
        rank(op, "x", x, 2);
        rank(op, "w", w, 2);
        same(op, "w", w, w.shape().dim(0), x.shape().dim(1), "(O, I) with I from x");
        if (b != null) {
            same(op, "b", b, w.shape().dim(0), "(O)");
        }
        same(op, "y", y, x.shape().dim(0), w.shape().dim(0), "(N, O)");
        separate(op, "y", y, x, w, b);
        enter(op);
        try {
            hold(x);
            hold(w);
            hold(b);
            hold(y);
            doLinearForward(x, w, b, y, f);
        } finally {
            exit();
        }
    }

    /** dx = dy w. dy (N, O), w (O, I), dx (N, I). */
    public final void linearBackwardData(Tensor dy, Tensor w, Tensor dx) {
        String op = "linearBackwardData";
        rowMajor(op, "dy", dy);
        rowMajor(op, "w", w);
        rowMajor(op, "dx", dx);
        rank(op, "dy", dy, 2);
        rank(op, "w", w, 2);
        same(op, "w", w, dy.shape().dim(1), w.shape().dim(1), "(O, I) with O from dy");
        same(op, "dx", dx, dy.shape().dim(0), w.shape().dim(1), "(N, I)");
        separate(op, "dx", dx, dy, w);
        enter(op);
        try {
            hold(dy);
            hold(w);
            hold(dx);
            doLinearBackwardData(dy, w, dx);
        } finally {
            exit();
        }
    }

    /** dw = dy^T x, db = column sums of dy (db may be null). x (N, I), dy (N, O), dw (O, I), db (O). */
    public final void linearBackwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db) {
        String op = "linearBackwardWeights";
        rowMajor(op, "x", x);
        rowMajor(op, "dy", dy);
        rowMajor(op, "dw", dw);
        rowMajor(op, "db", db);
        rank(op, "x", x, 2);
        rank(op, "dy", dy, 2);
        same(op, "dy", dy, x.shape().dim(0), dy.shape().dim(1), "(N, O) with N from x");
        same(op, "dw", dw, dy.shape().dim(1), x.shape().dim(1), "(O, I)");
        if (db != null) {
            same(op, "db", db, dy.shape().dim(1), "(O)");
        }
        separate(op, "dw", dw, x, dy, db);
        separate(op, "db", db, x, dy);
        enter(op);
        try {
            hold(x);
            hold(dy);
            hold(dw);
            hold(db);
            doLinearBackwardWeights(x, dy, dw, db);
        } finally {
            exit();
        }
    }

    /** c = a b. a (M, K), b (K, N), c (M, N). */
    public final void matmul(Tensor a, Tensor b, Tensor c) {
        String op = "matmul";
        rowMajor(op, "a", a);
        rowMajor(op, "b", b);
        rowMajor(op, "c", c);
        rank(op, "a", a, 2);
        rank(op, "b", b, 2);
        same(op, "b", b, a.shape().dim(1), b.shape().dim(1), "(K, N) with K from a");
        same(op, "c", c, a.shape().dim(0), b.shape().dim(1), "(M, N)");
        separate(op, "c", c, a, b);
        enter(op);
        try {
            hold(a);
            hold(b);
            hold(c);
            doMatmul(a, b, c);
        } finally {
            exit();
        }
    }

    // ---------------------------------------------------------------- convolution

    /** y = conv(x, w) + b. x (N, C, H, W), w (O, C / groups, kH, kW), b (O) or null, y (N, O, oH, oW). */
    public final void conv2dForward(Conv2dSpec spec, Tensor x, Tensor w, Tensor b, Tensor y) {
        conv2dForward(spec, x, w, b, y, Activation.LINEAR);
    }

    /**
     * y = f(conv(x, w) + b), the activation applied as the output is written (oneDNN: a post-op,
     * one pass over y instead of two). For inference: no backward pass reads conv(x, w) + b.
     */
    public final void conv2dForward(Conv2dSpec spec, Tensor x, Tensor w, Tensor b, Tensor y, Activation f) {
        String op = "conv2dForward";
        rowMajor(op, "b", b); // w: row-major, or packed in {@link #conv2dWeightsLayout}
        Shape out = convShape(op, spec, x.shape(), w);
        if (b != null) {
            same(op, "b", b, w.shape().dim(0), "(O)");
        }
        same(op, "y", y, out, "(N, O, oH, oW)");
        open(op, x);
        separate(op, "y", y, x, w, b);
        enter(op);
        try {
            hold(x);
            hold(w);
            hold(b);
            hold(y);
            doConv2dForward(spec, x, w, b, y, f);
        } finally {
            exit();
        }
    }

    /** dx = the gradient of conv(x, w) with respect to x, given dy. dy (N, O, oH, oW), w, dx (N, C, H, W). */
    public final void conv2dBackwardData(Conv2dSpec spec, Tensor dy, Tensor w, Tensor dx) {
        String op = "conv2dBackwardData";
        rowMajor(op, "w", w);
        Shape out = convShape(op, spec, dx.shape(), w);
        same(op, "dy", dy, out, "(N, O, oH, oW) for dx");
        open(op, dx);
        separate(op, "dx", dx, dy, w);
        enter(op);
        try {
            hold(dy);
            hold(w);
            hold(dx);
            doConv2dBackwardData(spec, dy, w, dx);
        } finally {
            exit();
        }
    }

    /** dw and db (may be null) of conv(x, w) + b, given dy. */
    public final void conv2dBackwardWeights(Conv2dSpec spec, Tensor x, Tensor dy, Tensor dw, Tensor db) {
        String op = "conv2dBackwardWeights";
        rowMajor(op, "dw", dw);
        rowMajor(op, "db", db);
        Shape out = convShape(op, spec, x.shape(), dw);
        same(op, "dy", dy, out, "(N, O, oH, oW)");
        if (db != null) {
            same(op, "db", db, dw.shape().dim(0), "(O)");
        }
        open(op, x);
        separate(op, "dw", dw, x, dy, db);
        separate(op, "db", db, x, dy);
        enter(op);
        try {
            hold(x);
            hold(dy);
            hold(dw);
            hold(db);
            doConv2dBackwardWeights(spec, x, dy, dw, db);
        } finally {
            exit();
        }
    }

    /** An output shape computed before, for one spec: plans check the same shapes at every step. */
    private record KnownShape(Shape x, Shape w, Shape out) {}

    /**
     * By spec (identity): the last shapes checked for it, at most {@link #KNOWN_SHAPES} specs (then
     * forgotten all at once). Read and written under its own lock: the checks run before a call
     * claims the instance, so a misuse from two threads must not corrupt it.
     */
    private final java.util.IdentityHashMap<Object, KnownShape> knownShapes = new java.util.IdentityHashMap<>();
    private static final int KNOWN_SHAPES = 256;

    private KnownShape knownShape(Object spec) {
        synchronized (knownShapes) {
            return knownShapes.get(spec);
        }
    }

    private void rememberShape(Object spec, KnownShape shape) {
        synchronized (knownShapes) {
            if (knownShapes.size() >= KNOWN_SHAPES) {
                knownShapes.clear();
            }
            knownShapes.put(spec, shape);
        }
    }

    private Shape convShape(String op, Conv2dSpec spec, Shape x, Tensor w) {
        open(op, w);
        KnownShape known = knownShape(spec);
        if (known != null && known.x().equals(x) && known.w().equals(w.shape())) {
            return known.out(); // no allocation when a plan checks the same call again
        }
        try {
            Shape out = spec.outputShape(x, w.shape());
            rememberShape(spec, new KnownShape(x, w.shape(), out));
            return out;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- pooling

    /** A workspace for max pooling of row-major inputs shaped {@code x}: forward fills it, backward reads it. */
    public final Workspace maxPoolWorkspace(Pool2dSpec spec, Shape x) {
        return maxPoolWorkspace(spec, x, null);
    }

    /** A workspace for max pooling of inputs shaped {@code x} in {@code layout} (null: row-major). */
    public final Workspace maxPoolWorkspace(Pool2dSpec spec, Shape x, Layout layout) {
        String op = "maxPoolWorkspace";
        poolShape(op, spec, x);
        layoutTaken(op, layout);
        enter(op);
        try {
            return newMaxPoolWorkspace(spec, x, layout);
        } finally {
            exit();
        }
    }

    /** y = max over each window of x. ws: from {@link #maxPoolWorkspace} when a backward pass follows, else null. */
    public final void maxPool2dForward(Pool2dSpec spec, Tensor x, Tensor y, Workspace ws) {
        String op = "maxPool2dForward";
        sameLayout(op, "y", y, "x", x);
        same(op, "y", y, poolShape(op, spec, x.shape()), "(N, C, oH, oW)");
        open(op, x);
        if (ws != null) {
            workspace(op, ws, spec, x.shape(), x.layout());
        }
        separate(op, "y", y, x);
        enter(op);
        try {
            hold(x);
            hold(y);
            hold(ws);
            doMaxPool2dForward(spec, x, y, ws);
        } finally {
            exit();
        }
    }

    /** dx: dy routed to where each window's maximum was, as the forward pass recorded in ws. */
    public final void maxPool2dBackward(Pool2dSpec spec, Tensor dy, Workspace ws, Tensor dx) {
        String op = "maxPool2dBackward";
        sameLayout(op, "dx", dx, "dy", dy);
        same(op, "dy", dy, poolShape(op, spec, dx.shape()), "(N, C, oH, oW) for dx");
        open(op, dx);
        workspace(op, ws, spec, dx.shape(), dx.layout());
        separate(op, "dx", dx, dy);
        enter(op);
        try {
            hold(dy);
            hold(ws);
            hold(dx);
            doMaxPool2dBackward(spec, dy, ws, dx);
        } finally {
            exit();
        }
    }

    /** y = mean over each window of x. */
    public final void avgPool2dForward(Pool2dSpec spec, Tensor x, Tensor y) {
        String op = "avgPool2dForward";
        sameLayout(op, "y", y, "x", x);
        same(op, "y", y, poolShape(op, spec, x.shape()), "(N, C, oH, oW)");
        open(op, x);
        separate(op, "y", y, x);
        enter(op);
        try {
            hold(x);
            hold(y);
            doAvgPool2dForward(spec, x, y);
        } finally {
            exit();
        }
    }

    /** dx: each dy spread evenly over its window. */
    public final void avgPool2dBackward(Pool2dSpec spec, Tensor dy, Tensor dx) {
        String op = "avgPool2dBackward";
        sameLayout(op, "dx", dx, "dy", dy);
        same(op, "dy", dy, poolShape(op, spec, dx.shape()), "(N, C, oH, oW) for dx");
        open(op, dx);
        separate(op, "dx", dx, dy);
        enter(op);
        try {
            hold(dy);
            hold(dx);
            doAvgPool2dBackward(spec, dy, dx);
        } finally {
            exit();
        }
    }

    /**
     * Adaptive average pooling to y's size, PyTorch's bins: output row i averages input rows
     * floor(i H / oH) to ceil((i + 1) H / oH) - 1, likewise columns. x (N, C, H, W), y (N, C, oH, oW),
     * row-major. Where the bins are equal windows (H and W multiples of oH and oW) it is
     * {@link #avgPool2dForward} with window = stride = H / oH, which takes any layout and is faster:
     * layers use that; oneDNN has no adaptive pooling, and this runs as plain Java loops on every backend.
     */
    public final void adaptiveAvgPool2dForward(Tensor x, Tensor y) {
        String op = "adaptiveAvgPool2dForward";
        adaptiveShapes(op, x, "y", y);
        separate(op, "y", y, x);
        enter(op);
        try {
            hold(x);
            hold(y);
            doAdaptiveAvgPool2dForward(x, y);
        } finally {
            exit();
        }
    }

    /** dx: each dy spread evenly over its bin (bins may overlap: their shares add up). */
    public final void adaptiveAvgPool2dBackward(Tensor dy, Tensor dx) {
        String op = "adaptiveAvgPool2dBackward";
        adaptiveShapes(op, dx, "dy", dy);
        separate(op, "dx", dx, dy);
        enter(op);
        try {
            hold(dy);
            hold(dx);
            doAdaptiveAvgPool2dBackward(dy, dx);
        } finally {
            exit();
        }
    }

    private static void adaptiveShapes(String op, Tensor x, String name, Tensor y) {
        rowMajor(op, "x", x);
        rowMajor(op, name, y);
        open(op, x);
        open(op, y);
        Shape xs = x.shape();
        Shape ys = y.shape();
        if (xs.rank() != 4 || ys.rank() != 4 || xs.dim(0) != ys.dim(0) || xs.dim(1) != ys.dim(1)) {
            throw new IllegalArgumentException(op + ": x (N, C, H, W) and " + name + " (N, C, oH, oW) must agree on N and C, got "
                    + xs + " and " + ys);
        }
    }

    private Shape poolShape(String op, Pool2dSpec spec, Shape x) {
        KnownShape known = knownShape(spec);
        if (known != null && known.x().equals(x)) {
            return known.out();
        }
        try {
            Shape out = spec.outputShape(x);
            rememberShape(spec, new KnownShape(x, null, out));
            return out;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- element-wise

    /** y = f(x), element by element; any shape. */
    public final void activationForward(Activation f, Tensor x, Tensor y) {
        String op = "activationForward";
        sameLayout(op, "y", y, "x", x);
        same("activationForward", "y", y, x.shape(), "x's shape");
        inPlaceOrSeparate(op, "y", y, x);
        enter(op);
        try {
            hold(x);
            hold(y);
            doActivationForward(f, x, y);
        } finally {
            exit();
        }
    }

    /** dx = dy * f'(x), with x and y = f(x) both given (each backend uses what is cheaper). */
    public final void activationBackward(Activation f, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        String op = "activationBackward";
        sameLayout(op, "y", y, "x", x);
        sameLayout(op, "dy", dy, "x", x);
        sameLayout(op, "dx", dx, "x", x);
        same(op, "y", y, x.shape(), "x's shape");
        same(op, "dy", dy, x.shape(), "x's shape");
        same(op, "dx", dx, x.shape(), "x's shape");
        separate(op, "dx", dx, x, y, dy);
        enter(op);
        try {
            hold(x);
            hold(y);
            hold(dy);
            hold(dx);
            doActivationBackward(f, x, y, dy, dx);
        } finally {
            exit();
        }
    }

    /** y = min(max(x, min), max), element by element; any shape, any layout (y in x's). ReLU6 is (0, 6). */
    public final void clipForward(float min, float max, Tensor x, Tensor y) {
        String op = "clipForward";
        clipBounds(op, min, max);
        sameLayout(op, "y", y, "x", x);
        same(op, "y", y, x.shape(), "x's shape");
        inPlaceOrSeparate(op, "y", y, x);
        enter(op);
        try {
            hold(x);
            hold(y);
            doClipForward(min, max, x, y);
        } finally {
            exit();
        }
    }

    /** dx = dy where {@code min < x < max}, else 0 (PyTorch's hardtanh and ReLU6: the bounds pass nothing). */
    public final void clipBackward(float min, float max, Tensor x, Tensor dy, Tensor dx) {
        String op = "clipBackward";
        clipBounds(op, min, max);
        sameLayout(op, "dy", dy, "x", x);
        sameLayout(op, "dx", dx, "x", x);
        same(op, "dy", dy, x.shape(), "x's shape");
        same(op, "dx", dx, x.shape(), "x's shape");
        separate(op, "dx", dx, x, dy);
        enter(op);
        try {
            hold(x);
            hold(dy);
            hold(dx);
            doClipBackward(min, max, x, dy, dx);
        } finally {
            exit();
        }
    }

    private static void clipBounds(String op, float min, float max) {
        if (!(min <= max) || Float.isNaN(min) || Float.isNaN(max)) {
            throw new IllegalArgumentException(op + ": min " + min + " must not exceed max " + max);
        }
    }

    // ---------------------------------------------------------------- softmax

    /** Softmax (or log-softmax) along dimension 1, the class axis: x (N, C, ...). */
    public final void softmaxForward(Tensor x, Tensor y, boolean log) {
        String op = log ? "logSoftmaxForward" : "softmaxForward";
        rowMajor(op, "x", x);
        rowMajor(op, "y", y);
        if (x.shape().rank() < 2) {
            throw new IllegalArgumentException(op + ": x must be (N, C, ...) with the classes on dimension 1, got " + x.shape());
        }
        same(op, "y", y, x.shape(), "x's shape");
        inPlaceOrSeparate(op, "y", y, x);
        enter(op);
        try {
            hold(x);
            hold(y);
            doSoftmaxForward(x, y, log);
        } finally {
            exit();
        }
    }

    /** dx from the forward output y and dy. */
    public final void softmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean log) {
        String op = log ? "logSoftmaxBackward" : "softmaxBackward";
        rowMajor(op, "y", y);
        rowMajor(op, "dy", dy);
        rowMajor(op, "dx", dx);
        if (y.shape().rank() < 2) {
            throw new IllegalArgumentException(op + ": y must be (N, C, ...), got " + y.shape());
        }
        same(op, "dy", dy, y.shape(), "y's shape");
        same(op, "dx", dx, y.shape(), "y's shape");
        separate(op, "dx", dx, y, dy);
        enter(op);
        try {
            hold(y);
            hold(dy);
            hold(dx);
            doSoftmaxBackward(y, dy, dx, log);
        } finally {
            exit();
        }
    }

    // ---------------------------------------------------------------- LRN

    /** A workspace for LRN of row-major inputs shaped {@code x}. */
    public final Workspace lrnWorkspace(LrnSpec spec, Shape x) {
        return lrnWorkspace(spec, x, null);
    }

    /** A workspace for LRN of inputs shaped {@code x} in {@code layout} (null: row-major). */
    public final Workspace lrnWorkspace(LrnSpec spec, Shape x, Layout layout) {
        String op = "lrnWorkspace";
        lrnShape(op, x);
        layoutTaken(op, layout);
        enter(op);
        try {
            return newLrnWorkspace(spec, x, layout);
        } finally {
            exit();
        }
    }

    /** Local response normalisation across channels; x (N, C, H, W). ws: null in inference. */
    public final void lrnForward(LrnSpec spec, Tensor x, Tensor y, Workspace ws) {
        String op = "lrnForward";
        sameLayout(op, "y", y, "x", x);
        lrnShape(op, x.shape());
        same(op, "y", y, x.shape(), "x's shape");
        if (ws != null) {
            workspace(op, ws, spec, x.shape(), x.layout());
        }
        separate(op, "y", y, x);
        enter(op);
        try {
            hold(x);
            hold(y);
            hold(ws);
            doLrnForward(spec, x, y, ws);
        } finally {
            exit();
        }
    }

    public final void lrnBackward(LrnSpec spec, Tensor x, Tensor dy, Workspace ws, Tensor dx) {
        String op = "lrnBackward";
        sameLayout(op, "dy", dy, "x", x);
        sameLayout(op, "dx", dx, "x", x);
        lrnShape(op, x.shape());
        same(op, "dy", dy, x.shape(), "x's shape");
        same(op, "dx", dx, x.shape(), "x's shape");
        workspace(op, ws, spec, x.shape(), x.layout());
        separate(op, "dx", dx, x, dy);
        enter(op);
        try {
            hold(x);
            hold(dy);
            hold(ws);
            hold(dx);
            doLrnBackward(spec, x, dy, ws, dx);
        } finally {
            exit();
        }
    }

    private static void lrnShape(String op, Shape x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": x must be (N, C, H, W), got " + x);
        }
    }

    // ---------------------------------------------------------------- batch normalisation

    /**
     * Batch normalisation in training: normalises x (N, C, H, W), any layout, with the batch's
     * statistics, writes them to {@code mean} and {@code variance} (biased: what backward reads),
     * and moves {@code runningMean} and {@code runningVariance} towards them by the spec's momentum
     * (the variance unbiased; both may be null: not updated). y in x's layout; the (C) vectors row-major.
     */
    public final void batchNormTrainingForward(BatchNormSpec spec, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean,
            Tensor variance, Tensor runningMean, Tensor runningVariance) {
        String op = "batchNormTrainingForward";
        long c = batchNormShape(op, x, "y", y, gamma, beta, mean, variance);
        if ((runningMean == null) != (runningVariance == null)) {
            throw new IllegalArgumentException(op + ": runningMean and runningVariance are both given or both null");
        }
        if (runningMean != null) {
            perChannel(op, "runningMean", runningMean, c);
            perChannel(op, "runningVariance", runningVariance, c);
        }
        Shape s = x.shape();
        if (s.dim(0) * s.dim(2) * s.dim(3) < 2) {
            throw new IllegalArgumentException(op + ": x " + s + " has one value per channel; the batch's variance needs more");
        }
        separate(op, "y", y, x, gamma, beta);
        separate(op, "mean", mean, x, y);
        separate(op, "variance", variance, x, y, mean);
        enter(op);
        try {
            hold(x);
            hold(gamma);
            hold(beta);
            hold(y);
            hold(mean);
            hold(variance);
            hold(runningMean);
            hold(runningVariance);
            doBatchNormTrainingForward(spec, x, gamma, beta, y, mean, variance, runningMean, runningVariance);
        } finally {
            exit();
        }
    }

    /** Batch normalisation with given statistics (inference: the running estimates). x (N, C, H, W), any layout; y in x's. */
    public final void batchNormInferenceForward(BatchNormSpec spec, Tensor x, Tensor gamma, Tensor beta, Tensor mean,
            Tensor variance, Tensor y) {
        String op = "batchNormInferenceForward";
        batchNormShape(op, x, "y", y, gamma, beta, mean, variance);
        separate(op, "y", y, x, gamma, beta);
        separate(op, "y", y, mean, variance);
        enter(op);
        try {
            hold(x);
            hold(gamma);
            hold(beta);
            hold(mean);
            hold(variance);
            hold(y);
            doBatchNormInferenceForward(spec, x, gamma, beta, mean, variance, y);
        } finally {
            exit();
        }
    }

    /**
     * dx, and dgamma and dbeta (both, or both null), of batch normalisation given dy. With
     * {@code batchStatistics} the forward pass normalised with the batch's {@code mean} and
     * {@code variance} (from {@link #batchNormTrainingForward}), which depend on x; else with given
     * statistics, constants. dy and dx in x's layout.
     */
    public final void batchNormBackward(BatchNormSpec spec, boolean batchStatistics, Tensor x, Tensor dy, Tensor gamma,
            Tensor mean, Tensor variance, Tensor dx, Tensor dgamma, Tensor dbeta) {
        String op = "batchNormBackward";
        long c = batchNormShape(op, x, "dy", dy, gamma, gamma, mean, variance); // no beta: the gradients do not depend on it
        sameLayout(op, "dx", dx, "x", x);
        same(op, "dx", dx, x.shape(), "x's shape");
        if ((dgamma == null) != (dbeta == null)) {
            throw new IllegalArgumentException(op + ": dgamma and dbeta are both given or both null");
        }
        if (dgamma != null) {
            perChannel(op, "dgamma", dgamma, c);
            perChannel(op, "dbeta", dbeta, c);
        }
        separate(op, "dx", dx, x, dy, gamma);
        separate(op, "dx", dx, mean, variance);
        separate(op, "dgamma", dgamma, x, dy, dbeta);
        separate(op, "dbeta", dbeta, x, dy);
        enter(op);
        try {
            hold(x);
            hold(dy);
            hold(gamma);
            hold(mean);
            hold(variance);
            hold(dx);
            hold(dgamma);
            hold(dbeta);
            doBatchNormBackward(spec, batchStatistics, x, dy, gamma, mean, variance, dx, dgamma, dbeta);
        } finally {
            exit();
        }
    }

    /** Checks x (N, C, H, W), y like x (shape and layout), and the (C) row-major vectors; returns C. */
    private static long batchNormShape(String op, Tensor x, String yName, Tensor y, Tensor gamma, Tensor beta, Tensor mean,
            Tensor variance) {
        open(op, x);
        if (x.shape().rank() != 4) {
            throw new IllegalArgumentException(op + ": x must be (N, C, H, W), got " + x.shape());
        }
        sameLayout(op, yName, y, "x", x);
        same(op, yName, y, x.shape(), "x's shape");
        long c = x.shape().dim(1);
        perChannel(op, "gamma", gamma, c);
        perChannel(op, "beta", beta, c);
        perChannel(op, "mean", mean, c);
        perChannel(op, "variance", variance, c);
        return c;
    }

    private static void perChannel(String op, String name, Tensor t, long c) {
        rowMajor(op, name, t);
        same(op, name, t, c, "C, one per channel");
    }

    // ---------------------------------------------------------------- binary, sum, layout

    /** y = a + b, element-wise; equal shapes. */
    public final void add(Tensor a, Tensor b, Tensor y) {
        add(a, b, y, Activation.LINEAR);
    }

    /** y = f(a + b): the activation applied as the sum is written (oneDNN: a post-op); for inference (a residual block's add, relu). */
    public final void add(Tensor a, Tensor b, Tensor y, Activation f) {
        String op = "add";
        sameLayout(op, "b", b, "a", a);
        sameLayout(op, "y", y, "a", a);
        same("add", "b", b, a.shape(), "a's shape");
        same("add", "y", y, a.shape(), "a's shape");
        inPlaceOrSeparate(op, "y", y, a, b);
        enter(op);
        try {
            hold(a);
            hold(b);
            hold(y);
            doAdd(a, b, y, f);
        } finally {
            exit();
        }
    }

    /** y = a * b, element-wise; equal shapes. */
    public final void multiply(Tensor a, Tensor b, Tensor y) {
        String op = "multiply";
        rowMajor(op, "a", a);
        rowMajor(op, "b", b);
        rowMajor(op, "y", y);
        same("multiply", "b", b, a.shape(), "a's shape");
        same("multiply", "y", y, a.shape(), "a's shape");
        inPlaceOrSeparate(op, "y", y, a, b);
        enter(op);
        try {
            hold(a);
            hold(b);
            hold(y);
            doMultiply(a, b, y);
        } finally {
            exit();
        }
    }

    /** y = the sum of the inputs; equal shapes. */
    public final void sum(List<Tensor> inputs, Tensor y) {
        String op = "sum";
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("sum: no inputs");
        }
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            open(op, t);
            if (!t.shape().equals(y.shape())) {
                throw new IllegalArgumentException("sum: input " + i + " must be " + y.shape() + " (y's shape) but is " + t.shape());
            }
            sameLayout(op, "input " + i, t, "y", y);
        }
        Tensor first = inputs.get(0);
        for (int i = 0; i < inputs.size(); i++) { // y may be the first input itself (in place), and must not overlap any other
            Tensor t = inputs.get(i);
            if (!(i == 0 && sameMemory(first, y))) {
                separate(op, "y", y, t);
            }
        }
        enter(op);
        try {
            for (Tensor t : inputs) {
                hold(t);
            }
            hold(y);
            doSum(inputs, y);
        } finally {
            exit();
        }
    }

    /** dst += src: how a gradient from one more consumer is added in. */
    public final void accumulate(Tensor src, Tensor dst) {
        String op = "accumulate";
        sameLayout(op, "src", src, "dst", dst);
        same("accumulate", "src", src, dst.shape(), "dst's shape");
        separate(op, "dst", dst, src);
        enter(op);
        try {
            hold(src);
            hold(dst);
            doAccumulate(src, dst);
        } finally {
            exit();
        }
    }

    /**
     * y = x with its dimensions reordered: {@code y.dim(i) = x.dim(order[i])}, e.g. order (0, 2, 3, 1)
     * turns (N, C, H, W) into (N, H, W, C). A reorder between layouts.
     */
    public final void permute(Tensor x, int[] order, Tensor y) {
        String op = "permute";
        rowMajor(op, "x", x);
        rowMajor(op, "y", y);
        int rank = x.shape().rank();
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException("permute: " + x.shape() + " has " + rank + " dimensions; at most " + MAX_RANK
                    + " are supported (oneDNN's limit, kept on every backend)");
        }
        boolean[] seen = new boolean[rank];
        boolean valid = order.length == rank;
        for (int i = 0; valid && i < rank; i++) {
            valid = order[i] >= 0 && order[i] < rank && !seen[order[i]];
            if (valid) {
                seen[order[i]] = true;
            }
        }
        if (!valid) {
            throw new IllegalArgumentException("permute: order " + Arrays.toString(order) + " is not a permutation of the "
                    + rank + " dimensions of " + x.shape());
        }
        long[] dims = new long[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = x.shape().dim(order[i]);
        }
        same("permute", "y", y, Shape.of(dims), "x's dimensions in the given order");
        open("permute", x);
        separate(op, "y", y, x);
        enter(op);
        try {
            hold(x);
            hold(y);
            doPermute(x, order.clone(), y);
        } finally {
            exit();
        }
    }

    /**
     * y = x, converting between layouts: either may be row-major or in a layout of this backend
     * ({@link Tensor#layout()}); equal shapes. How a plan turns its internal buffers into row-major
     * ones at its edges, and how anyone reads a tensor in a backend layout.
     */
    public final void reorder(Tensor x, Tensor y) {
        String op = "reorder";
        same(op, "y", y, x.shape(), "x's shape");
        open(op, x);
        separate(op, "y", y, x);
        enter(op);
        try {
            hold(x);
            hold(y);
            doReorder(x, y);
        } finally {
            exit();
        }
    }

    /**
     * The layout {@code like} names (its format tag), for tensors of {@code shape}: what a layer
     * that keeps its input's layout but changes its shape (pooling) writes. Null on a backend that
     * does not take layouts.
     */
    public final Layout layoutFor(Layout like, Shape shape) {
        if (!takesLayouts()) {
            return null;
        }
        String op = "layoutFor";
        enter(op);
        try {
            return sizedLayout(like, shape);
        } finally {
            exit();
        }
    }

    /** {@link #layoutFor}: only called when {@link #takesLayouts()}. */
    protected Layout sizedLayout(Layout like, Shape shape) {
        throw new UnsupportedOperationException(name() + " takes no layouts");
    }

    /**
     * Whether this backend's ops take tensors in its own layouts ({@link #conv2dOutputLayout}): those
     * marked "any layout" in their documentation do. False here: every tensor must be row-major.
     */
    public boolean takesLayouts() {
        return false;
    }

    /**
     * The layout {@link #conv2dForward} with these shapes writes fastest: where a plan should keep
     * the output (and the layers after it that take any layout), or null for row-major — always,
     * on a backend that does not {@link #takesLayouts take layouts}. x (N, C, H, W), w (O, C / groups, kH, kW).
     */
    public final Layout conv2dOutputLayout(Conv2dSpec spec, Shape x, Shape w, boolean bias) {
        String op = "conv2dOutputLayout";
        convLayoutShapes(op, spec, x, w);
        if (!takesLayouts()) {
            return null;
        }
        enter(op);
        try {
            return preferredConv2dOutputLayout(spec, x, w, bias);
        } finally {
            exit();
        }
    }

    /**
     * The layout {@link #conv2dForward} with these shapes, output layout {@code y} (null: row-major)
     * and fused activation reads its weights fastest: where an inference plan keeps a packed copy
     * of them, so that no call converts them. Null for row-major (always, on a backend that does
     * not take layouts).
     */
    public final Layout conv2dWeightsLayout(Conv2dSpec spec, Shape x, Shape w, boolean bias, Layout y, Activation f) {
        String op = "conv2dWeightsLayout";
        convLayoutShapes(op, spec, x, w);
        if (!takesLayouts()) {
            return null;
        }
        enter(op);
        try {
            return preferredConv2dWeightsLayout(spec, x, w, bias, y, f);
        } finally {
            exit();
        }
    }

    private static void convLayoutShapes(String op, Conv2dSpec spec, Shape x, Shape w) {
        if (w.rank() != 4 || x.rank() != 4) {
            throw new IllegalArgumentException(op + ": x must be (N, C, H, W) and w (O, C / groups, kH, kW), got " + x + " and " + w);
        }
        try {
            spec.outputShape(x, w);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- checks

    /** Marks a closed instance in {@link #user}: no thread can enter it again. */
    private static final Thread CLOSED = new Thread("closed Ops");

    /** The thread inside a call of this instance, or null, or CLOSED: an instance serves one thread at a time. */
    private final AtomicReference<Thread> user = new AtomicReference<>();

    /** What the current call holds alive (tensor and workspace lifetimes), released by {@link #exit}. */
    private Lifetime[] held = new Lifetime[8];
    private int heldCount;

    private void enter(String op) {
        if (!user.compareAndSet(null, Thread.currentThread())) {
            Thread other = user.get();
            if (other == CLOSED) {
                throw new IllegalStateException(op + ": this " + name() + " Ops instance is closed");
            }
            throw new IllegalStateException(op + ": this " + name() + " Ops instance is in use by thread '"
                    + (other == null ? "?" : other.getName()) + "'; an instance serves one thread at a time");
        }
        try {
            prepareThread();
        } catch (RuntimeException | Error e) {
            user.set(null);
            throw e;
        }
    }

    /** Readies the calling thread for a call of this instance (oneDNN: its thread count); nothing by default. */
    protected void prepareThread() {
    }

    /**
     * Keeps {@code t}'s memory alive until the call returns: closing it on another thread
     * meanwhile throws there instead of freeing what oneDNN reads or writes. Null is skipped.
     */
    private void hold(Tensor t) {
        if (t != null) {
            if (t.layout() != null && !takesLayouts()) {
                throw new IllegalArgumentException(name() + " ops take row-major tensors only, and " + t
                        + " is in a backend layout; convert it with reorder on the ops that made it");
            }
            hold(t.lifetime(), t);
        }
    }

    private void hold(Workspace ws) {
        if (ws != null) {
            hold(ws.lifetime, ws);
        }
    }

    private void hold(Lifetime lifetime, Object what) {
        lifetime.acquire(what);
        if (heldCount == held.length) {
            held = Arrays.copyOf(held, held.length * 2);
        }
        held[heldCount++] = lifetime;
    }

    private void exit() {
        for (int i = 0; i < heldCount; i++) {
            held[i].release();
            held[i] = null;
        }
        heldCount = 0;
        user.set(null);
    }

    private void layoutTaken(String op, Layout layout) {
        if (layout != null && !takesLayouts()) {
            throw new IllegalArgumentException(op + ": " + name() + " ops take row-major tensors only, not the layout " + layout);
        }
    }

    /** {@code t} (skipped when null) must be row-major: this op takes no backend layout for it. */
    private static void rowMajor(String op, String name, Tensor t) {
        if (t != null && t.layout() != null) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.shape() + " is in the backend layout " + t.layout()
                    + "; this op takes it row-major only (convert it with reorder)");
        }
    }

    /** {@code t} must be in the layout {@code ref} is in: both row-major, or the same backend layout. */
    private static void sameLayout(String op, String name, Tensor t, String refName, Tensor ref) {
        // the same format (tag): a pooled output's layout is its input's, sized for its own shape
        if (!java.util.Objects.equals(t.layout() == null ? null : t.layout().tag(), ref.layout() == null ? null : ref.layout().tag())) {
            throw new IllegalArgumentException(op + ": " + name + " is " + layoutName(t) + " but " + refName + " is "
                    + layoutName(ref) + "; they must be in the same layout");
        }
    }

    private static String layoutName(Tensor t) {
        return t.layout() == null ? "row-major" : "in the layout " + t.layout();
    }

    /** Throws when output {@code out} shares memory with input {@code in} (a null output or input is skipped). */
    private static void separate(String op, String name, Tensor out, Tensor in) {
        if (out == null || in == null) {
            return;
        }
        if (in == out) {
            throw new IllegalArgumentException(op + ": " + name + " is also an input; outputs of this op must not overlap its inputs");
        }
        MemorySegment o = out.segment();
        MemorySegment i = in.segment();
        // address arithmetic, not asOverlappingSlice: a check on every call must not allocate
        if (o.address() < i.address() + i.byteSize() && i.address() < o.address() + o.byteSize()) {
            throw new IllegalArgumentException(op + ": " + name + " " + out.shape() + " shares memory with an input "
                    + in.shape() + "; outputs of this op must not overlap its inputs");
        }
    }

    private static void separate(String op, String name, Tensor out, Tensor a, Tensor b) {
        separate(op, name, out, a);
        separate(op, name, out, b);
    }

    private static void separate(String op, String name, Tensor out, Tensor a, Tensor b, Tensor c) {
        separate(op, name, out, a);
        separate(op, name, out, b);
        separate(op, name, out, c);
    }

    /** Whether two tensors are the same memory exactly (an op in place). */
    private static boolean sameMemory(Tensor a, Tensor b) {
        MemorySegment x = a.segment();
        MemorySegment y = b.segment();
        return x.address() == y.address() && x.byteSize() == y.byteSize();
    }

    /** Like {@link #separate}, but the output may be the first input itself (in place). */
    private static void inPlaceOrSeparate(String op, String name, Tensor out, Tensor first) {
        if (!sameMemory(first, out)) {
            separate(op, name, out, first);
        }
    }

    private static void inPlaceOrSeparate(String op, String name, Tensor out, Tensor first, Tensor second) {
        inPlaceOrSeparate(op, name, out, first);
        separate(op, name, out, second);
    }

    private static void open(String op, Tensor t) {
        if (!t.isOpen()) {
            throw new IllegalStateException(op + ": tensor " + t.shape() + " is closed");
        }
    }

    private static void rank(String op, String name, Tensor t, int rank) {
        open(op, t);
        if (t.shape().rank() != rank) {
            throw new IllegalArgumentException(op + ": " + name + " must have " + rank + " dimensions, got " + t.shape());
        }
    }

    private static void same(String op, String name, Tensor t, Shape expected, String what) {
        open(op, t);
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": " + name + " must be " + expected + " (" + what + ") but is " + t.shape());
        }
    }

    /** {@code t} must be the vector (d0); {@code what} says what d0 stands for. Allocates nothing unless it throws. */
    private static void same(String op, String name, Tensor t, long d0, String what) {
        open(op, t);
        Shape s = t.shape();
        if (s.rank() != 1 || s.dim(0) != d0) {
            throw new IllegalArgumentException(op + ": " + name + " must be " + Shape.of(d0) + " (" + what + ") but is " + s);
        }
    }

    /** {@code t} must be the matrix (d0, d1). Allocates nothing unless it throws. */
    private static void same(String op, String name, Tensor t, long d0, long d1, String what) {
        open(op, t);
        Shape s = t.shape();
        if (s.rank() != 2 || s.dim(0) != d0 || s.dim(1) != d1) {
            throw new IllegalArgumentException(op + ": " + name + " must be " + Shape.of(d0, d1) + " (" + what + ") but is " + s);
        }
    }

    private void workspace(String op, Workspace ws, Object spec, Shape x, Layout layout) {
        if (ws == null) {
            throw new IllegalArgumentException(op + ": a workspace from the forward pass is required");
        }
        if (ws.owner != this) {
            throw new IllegalArgumentException(op + ": the workspace belongs to another Ops instance (" + ws.owner.name() + ")");
        }
        if (!ws.spec.equals(spec) || !ws.input.equals(x) || !java.util.Objects.equals(ws.layout, layout)) {
            throw new IllegalArgumentException(op + ": the workspace was made for " + ws.spec + " on " + ws.input
                    + (ws.layout == null ? "" : " in " + ws.layout) + ", not " + spec + " on " + x + (layout == null ? "" : " in " + layout));
        }
    }

    // ---------------------------------------------------------------- implementations (arguments checked)

    protected abstract void doLinearForward(Tensor x, Tensor w, Tensor b, Tensor y);

    protected abstract void doLinearBackwardData(Tensor dy, Tensor w, Tensor dx);

    protected abstract void doLinearBackwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db);

    protected abstract void doMatmul(Tensor a, Tensor b, Tensor c);

    protected abstract void doConv2dForward(Conv2dSpec spec, Tensor x, Tensor w, Tensor b, Tensor y);

    protected abstract void doConv2dBackwardData(Conv2dSpec spec, Tensor dy, Tensor w, Tensor dx);

    /** y = f(conv(x, w) + b): by default the convolution, then the activation in place. */
    protected void doConv2dForward(Conv2dSpec spec, Tensor x, Tensor w, Tensor b, Tensor y, Activation f) {
        doConv2dForward(spec, x, w, b, y);
        if (f != Activation.LINEAR) {
            doActivationForward(f, y, y);
        }
    }

    /** y = f(x w^T + b): by default the product, then the activation in place. */
    protected void doLinearForward(Tensor x, Tensor w, Tensor b, Tensor y, Activation f) {
        doLinearForward(x, w, b, y);
        if (f != Activation.LINEAR) {
            doActivationForward(f, y, y);
        }
    }

    protected abstract void doConv2dBackwardWeights(Conv2dSpec spec, Tensor x, Tensor dy, Tensor dw, Tensor db);

    protected abstract Workspace newMaxPoolWorkspace(Pool2dSpec spec, Shape x, Layout layout);

    protected abstract void doMaxPool2dForward(Pool2dSpec spec, Tensor x, Tensor y, Workspace ws);

    protected abstract void doMaxPool2dBackward(Pool2dSpec spec, Tensor dy, Workspace ws, Tensor dx);

    protected abstract void doAvgPool2dForward(Pool2dSpec spec, Tensor x, Tensor y);

    protected abstract void doAvgPool2dBackward(Pool2dSpec spec, Tensor dy, Tensor dx);

    protected abstract void doAdaptiveAvgPool2dForward(Tensor x, Tensor y);

    protected abstract void doAdaptiveAvgPool2dBackward(Tensor dy, Tensor dx);

    protected abstract void doActivationForward(Activation f, Tensor x, Tensor y);

    protected abstract void doActivationBackward(Activation f, Tensor x, Tensor y, Tensor dy, Tensor dx);

    protected abstract void doClipForward(float min, float max, Tensor x, Tensor y);

    protected abstract void doClipBackward(float min, float max, Tensor x, Tensor dy, Tensor dx);

    protected abstract void doSoftmaxForward(Tensor x, Tensor y, boolean log);

    protected abstract void doSoftmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean log);

    protected abstract Workspace newLrnWorkspace(LrnSpec spec, Shape x, Layout layout);

    protected abstract void doLrnForward(LrnSpec spec, Tensor x, Tensor y, Workspace ws);

    protected abstract void doLrnBackward(LrnSpec spec, Tensor x, Tensor dy, Workspace ws, Tensor dx);

    protected abstract void doBatchNormTrainingForward(BatchNormSpec spec, Tensor x, Tensor gamma, Tensor beta, Tensor y,
            Tensor mean, Tensor variance, Tensor runningMean, Tensor runningVariance);

    protected abstract void doBatchNormInferenceForward(BatchNormSpec spec, Tensor x, Tensor gamma, Tensor beta, Tensor mean,
            Tensor variance, Tensor y);

    protected abstract void doBatchNormBackward(BatchNormSpec spec, boolean batchStatistics, Tensor x, Tensor dy, Tensor gamma,
            Tensor mean, Tensor variance, Tensor dx, Tensor dgamma, Tensor dbeta);

    /**
     * running = (1 - momentum) running + momentum batch for the mean, and for the variance with the
     * batch's made unbiased ({@code count} values per channel); in place, row-major (C) vectors. The
     * backends' shared last step of {@link #batchNormTrainingForward} (C values: no call is worth it).
     */
    protected static void updateRunningStatistics(BatchNormSpec spec, long count, Tensor mean, Tensor variance, Tensor runningMean,
            Tensor runningVariance) {
        if (runningMean == null) {
            return;
        }
        double m = spec.momentum();
        double unbias = count / (double) (count - 1);
        for (long c = 0; c < mean.size(); c++) {
            runningMean.setFlat(c, (float) ((1 - m) * runningMean.getFlat(c) + m * mean.getFlat(c)));
            runningVariance.setFlat(c, (float) ((1 - m) * runningVariance.getFlat(c) + m * variance.getFlat(c) * unbias));
        }
    }

    protected abstract void doAdd(Tensor a, Tensor b, Tensor y);

    protected abstract void doMultiply(Tensor a, Tensor b, Tensor y);

    protected abstract void doSum(List<Tensor> inputs, Tensor y);

    /** y = f(a + b): by default the sum, then the activation in place. */
    protected void doAdd(Tensor a, Tensor b, Tensor y, Activation f) {
        doAdd(a, b, y);
        if (f != Activation.LINEAR) {
            doActivationForward(f, y, y);
        }
    }

    protected abstract void doAccumulate(Tensor src, Tensor dst);

    protected abstract void doPermute(Tensor x, int[] order, Tensor y);

    protected abstract void doReorder(Tensor x, Tensor y);

    /** The layout to pack a convolution's weights in (shapes checked); only called when {@link #takesLayouts()}. */
    protected Layout preferredConv2dWeightsLayout(Conv2dSpec spec, Shape x, Shape w, boolean bias, Layout y, Activation f) {
        return null;
    }

    /** The layout to keep a convolution's output in (shapes checked); only called when {@link #takesLayouts()}. */
    protected Layout preferredConv2dOutputLayout(Conv2dSpec spec, Shape x, Shape w, boolean bias) {
        return null;
    }

    /** Frees the backend's caches (primitives, scratch); called once, when no call is running. */
    protected abstract void free();

    /**
     * Frees caches; the instance cannot be used afterwards. Throws {@link IllegalStateException},
     * freeing nothing, while another thread is inside a call; closing again does nothing.
     */
    @Override
    public final void close() {
        if (user.compareAndSet(null, CLOSED)) {
            free();
            return;
        }
        Thread other = user.get();
        if (other != CLOSED) {
            throw new IllegalStateException("this " + name() + " Ops instance is in use by thread '"
                    + (other == null ? "?" : other.getName()) + "'; close it after the call returns");
        }
    }
}
