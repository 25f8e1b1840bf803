package dev.deepnet.nn;

import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Layout;
import dev.deepnet.tensor.Shape;
import dev.deepnet.nativelib.Lifetime;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.tensor.TensorArena;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A model compiled for one batch size: every step built, every buffer allocated once from the
 * plan's arena, every oneDNN primitive created on the first run and reused.
 *
 * <p>Forward runs the nodes in topological order. Backward runs them in reverse, and each node's
 * output gradient is complete before its own step reads it: the first consumer to run (in reverse
 * order) writes it, every later consumer adds its contribution ({@link Ops#accumulate}). What is
 * computed is computed once and not recomputed — a backward pass costs one step per node and one
 * addition per extra consumer, linear in the size of the graph however many paths run through it.
 * Nodes that do not lead to the output are skipped, and so are gradients nothing needs (frozen
 * layers upstream of nothing trainable).
 *
 * <p>Use: fill {@link #input()}, {@link #forward}; for training, write the loss gradient into
 * {@link #outputGradient()}, {@link #backward}, read {@link #gradient(Parameter)}. One thread at a
 * time; close it to free its memory (not the model's parameters). While forward or backward runs,
 * the plan and its model are held: closing either from another thread throws
 * {@link IllegalStateException} and frees nothing.
 */
public final class Plan implements AutoCloseable {

    /** What a plan is compiled for. */
    enum Mode {
        /** Forward only: no gradients, no workspaces, dropout off. */
        INFERENCE,
        /** Forward with dropout masks, backward to every trainable parameter (and the input when asked). */
        TRAINING,
        /**
         * The net as at inference (dropout off), but forward records what backward needs, and
         * backward computes dLoss/dInput alone: no parameter gradient, whatever the parameters'
         * frozen flags say. What attacks and saliency maps need; the model is only read.
         */
        INPUT_GRADIENT
    }

    private final Model model;
    private final Ops ops;
    private final int batch;
    private final Mode mode;
    private final boolean training; // backward runs: TRAINING or INPUT_GRADIENT
    /** Every buffer of the plan; its lifetime is the plan's: held by forward and backward and by every op on a buffer. */
    private final TensorArena arena = new TensorArena();
    private final Lifetime lifetime = arena.lifetime();
    private final List<Node> nodes;
    private final boolean[] live; // on a path to the output
    private final boolean[] needsGradient; // the gradient with respect to this node's output is needed
    private final Tensor[] outputs; // per node: (shape of the node's output)
    private final Tensor[] gradients; // per node: dLoss/dOutput, or null
    private final Tensor[] scratch; // per node with several consumers: where later contributions land before accumulate
    private final Tensor[][] inputs; // [node]: its inputs' outputs (or their row-major copies)
    private final Tensor[][] inputGradients; // [node]: where its step writes each input's gradient (or null)
    private final Tensor[][] sumInto; // [node][input slot]: the gradient its contribution is added to, or null when written directly
    // Row-major copies of outputs kept in a backend layout, for the layers that read row-major only and for output(node):
    private final Tensor[] rowMajor; // per node: its output, converted after each forward step; or null
    private final boolean[][] viaRowMajor; // [node][input slot]: the step reads (and writes the gradient of) the row-major copy
    private final Tensor[] rowMajorGradient; // per node: the sum of the row-major consumers' contributions, or null
    private final Tensor[] rowMajorScratch; // per node: a later row-major contribution before it is added in
    private final boolean[] rowMajorWritten; // the row-major gradient has a contribution, converted before the node's own backward
    private final boolean[] rowMajorDirect; // ... converted straight into the gradient (no consumer in the layout wrote it)
    /** Per node: the activation node fused into this convolution's step (inference plans), or null. */
    private final Node[] fusedWith;
    private final Step[] steps;
    private final Map<Parameter, Tensor> parameterGradients = new LinkedHashMap<>();
    private final List<Parameter> trainable; // parameterGradients' keys, fixed at compile time
    private long backwardExecutions;
    /** Whether the last forward pass recorded what backward reads (pooling workspaces, dropout masks, activations). */
    private boolean recordedForBackward;

    Plan(Model model, Ops ops, int batch, Mode mode, long seed, boolean inputGradient) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batch);
        }
        this.model = model;
        this.ops = ops;
        this.batch = batch;
        this.mode = mode;
        this.training = mode != Mode.INFERENCE;
        boolean withParameterGradients = mode == Mode.TRAINING;
        this.nodes = model.nodes();
        int n = nodes.size();
        Shape[] shapes = model.shapes(batch);
        live = new boolean[n];
        needsGradient = new boolean[n];
        outputs = new Tensor[n];
        gradients = new Tensor[n];
        scratch = new Tensor[n];
        inputs = new Tensor[n][];
        inputGradients = new Tensor[n][];
        sumInto = new Tensor[n][];
        rowMajor = new Tensor[n];
        viaRowMajor = new boolean[n][];
        rowMajorGradient = new Tensor[n];
        rowMajorScratch = new Tensor[n];
        rowMajorWritten = new boolean[n];
        rowMajorDirect = new boolean[n];
        steps = new Step[n];
        fusedWith = new Node[n];
        try {
            markLive(model.output());
            if (mode == Mode.INFERENCE) {
                fuseActivations();
            }
            for (Node node : nodes) {
                int i = node.index();
                boolean trainable = withParameterGradients && !node.isInput()
                        && node.layer().parameters().stream().anyMatch(p -> !p.isFrozen());
                needsGradient[i] = training && live[i] && (trainable || (node.isInput() && inputGradient)
                        || node.inputs().stream().anyMatch(in -> needsGradient[in.index()]));
            }
            if (withParameterGradients) {
                for (Parameter p : model.parameters()) {
                    if (!p.isFrozen()) {
                        parameterGradients.put(p, arena.allocate(p.shape()));
                    }
                }
            }
            this.trainable = List.copyOf(parameterGradients.keySet());
            SplittableRandom random = new SplittableRandom(seed);
            Map<Parameter, Tensor> gradientView = Collections.unmodifiableMap(parameterGradients);
            for (Node node : nodes) { // topological order: a node's inputs have their buffers (and layouts) already
                int i = node.index();
                SplittableRandom own = random.split(); // split for every node, live or not: masks do not depend on liveness
                Node into = node.isInput() ? null : node.inputs().get(0);
                if (into != null && fusedWith[into.index()] == node) { // computed by the convolution it reads
                    outputs[i] = outputs[into.index()];
                    continue;
                }
                Layout layout = null;
                if (!node.isInput() && live[i]) {
                    layout = inputsAndLayout(node, shapes);
                    Layout[] inputLayouts = java.util.Arrays.stream(inputs[i]).map(Tensor::layout).toArray(Layout[]::new);
                    Activation fused = fusedWith[i] == null ? Activation.LINEAR : ((ActivationLayer) fusedWith[i].layer()).activation();
                    boolean[] inputGradients = new boolean[node.inputs().size()];
                    for (int j = 0; j < inputGradients.length; j++) {
                        inputGradients[j] = needsGradient[i] && needsGradient[node.inputs().get(j).index()];
                    }
                    steps[i] = node.layer().step(new StepContext(ops, arena, gradientView, training, mode == Mode.TRAINING, own,
                            inputLayouts, layout, inputGradients, fused), Model.inputShapes(node, shapes));
                }
                outputs[i] = arena.allocate(shapes[i], layout);
                if (needsGradient[i] || (training && node == model.output())) {
                    gradients[i] = arena.allocate(shapes[i], layout); // a gradient is kept in its activation's layout
                }
            }
            int last = model.output().index();
            if (outputs[last].layout() != null) { // the plan's output edge is row-major: a copy, and the loss's gradient converted in
                rowMajor[last] = arena.allocate(shapes[last]);
                if (training) {
                    rowMajorGradient[last] = arena.allocate(shapes[last]);
                    rowMajorWritten[last] = true;
                }
            }
            routeGradients(shapes);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * In an inference plan, a convolution or a two-way add whose one reader is an activation (conv,
     * relu; a residual block's add, relu) computes both in one oneDNN primitive (the activation as
     * a post-op): the activation's node shares its buffer and runs no step of its own.
     */
    private void fuseActivations() {
        int[] readers = new int[nodes.size()];
        Node[] reader = new Node[nodes.size()];
        for (Node node : nodes) {
            if (live[node.index()]) {
                for (Node in : node.inputs()) {
                    readers[in.index()]++;
                    reader[in.index()] = node;
                }
            }
        }
        for (Node node : nodes) {
            int i = node.index();
            boolean fusable = node.layer() instanceof Conv2d || (node.layer() instanceof Add && node.inputs().size() == 2);
            if (!node.isInput() && live[i] && fusable && node != model.output() && readers[i] == 1
                    && reader[i].layer() instanceof ActivationLayer && reader[i].inputs().size() == 1) {
                fusedWith[i] = reader[i];
            }
        }
    }

    private void markLive(Node node) {
        if (live[node.index()]) {
            return;
        }
        live[node.index()] = true;
        for (Node in : node.inputs()) {
            markLive(in);
        }
    }

    /**
     * Sets {@code inputs[node]} — its inputs' outputs, or their row-major copies where its layer's
     * {@link Layer.LayoutRule} needs them — and returns the layout its output is kept in (null:
     * row-major).
     */
    private Layout inputsAndLayout(Node node, Shape[] shapes) {
        int i = node.index();
        int k = node.inputs().size();
        Tensor[] in = new Tensor[k];
        for (int j = 0; j < k; j++) {
            in[j] = outputs[node.inputs().get(j).index()];
        }
        inputs[i] = in;
        viaRowMajor[i] = new boolean[k];
        Layer layer = node.layer();
        switch (layer.layoutRule(Model.inputShapes(node, shapes))) {
            case OWN -> {
                return layer.outputLayout(ops, Model.inputShapes(node, shapes));
            }
            case KEEPS -> {
                Layout common = in[0].layout();
                if (java.util.Arrays.stream(in).allMatch(t -> java.util.Objects.equals(t.layout(), common))) {
                    // the same layout for the output's shape (pooling shrinks it: a layout's byte size is its shape's)
                    return common == null ? null : ops.layoutFor(common, shapes[i]);
                }
            }
            case ROW_MAJOR -> { }
        }
        for (int j = 0; j < k; j++) { // this step reads row-major: give it the row-major copies
            if (in[j].layout() != null) {
                int p = node.inputs().get(j).index();
                if (rowMajor[p] == null) {
                    rowMajor[p] = arena.allocate(shapes[p]);
                }
                in[j] = rowMajor[p];
                viaRowMajor[i][j] = true;
            }
        }
        return null;
    }

    /**
     * Decides, per edge, where a gradient contribution is written: straight into the input's
     * gradient when it is the first (in backward order), else into a scratch buffer then added in.
     * Contributions of steps that read a row-major copy sum up row-major and are converted into
     * the input's layout once, just before the input's own backward step.
     */
    private void routeGradients(Shape[] shapes) {
        boolean[] written = new boolean[nodes.size()];
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node node = nodes.get(i);
            if (node.isInput() || !live[i]) {
                continue;
            }
            int k = node.inputs().size();
            sumInto[i] = new Tensor[k];
            inputGradients[i] = new Tensor[k];
            if (!needsGradient[i]) {
                continue; // nothing upstream needs anything from this node's backward step
            }
            for (int j = 0; j < k; j++) {
                int in = node.inputs().get(j).index();
                if (!needsGradient[in]) {
                    continue;
                }
                if (viaRowMajor[i][j]) {
                    if (rowMajorGradient[in] == null) {
                        rowMajorGradient[in] = arena.allocate(shapes[in]);
                    }
                    if (!rowMajorWritten[in]) {
                        rowMajorWritten[in] = true;
                        inputGradients[i][j] = rowMajorGradient[in];
                    } else {
                        if (rowMajorScratch[in] == null) {
                            rowMajorScratch[in] = arena.allocate(shapes[in]);
                        }
                        inputGradients[i][j] = rowMajorScratch[in];
                        sumInto[i][j] = rowMajorGradient[in];
                    }
                } else if (!written[in]) {
                    written[in] = true;
                    inputGradients[i][j] = gradients[in];
                } else {
                    inputGradients[i][j] = scratch(in, shapes);
                    sumInto[i][j] = gradients[in];
                }
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (rowMajorWritten[i]) {
                rowMajorDirect[i] = !written[i]; // the row-major sum is the whole gradient: convert it straight in
                if (!rowMajorDirect[i]) {
                    scratch(i, shapes);
                }
            }
        }
    }

    /** The scratch buffer of node {@code in}'s gradient, in its layout; made when first needed. */
    private Tensor scratch(int in, Shape[] shapes) {
        if (scratch[in] == null) {
            scratch[in] = arena.allocate(shapes[in], gradients[in].layout());
        }
        return scratch[in];
    }

    /** The input buffer (batch, sample...): copy a batch in before {@link #forward}. */
    public Tensor input() {
        return outputs[0];
    }

    /** The output of the last forward pass (batch, ...), row-major. */
    public Tensor output() {
        int last = model.output().index();
        return rowMajor[last] != null ? rowMajor[last] : outputs[last];
    }

    /**
     * The output of any node of the last forward pass (hidden activations), row-major. Where the
     * plan keeps a node's output in a backend layout (between oneDNN convolutions, pooling and
     * activations), this is a row-major copy, made on the first call and brought up to date by
     * every forward pass after it.
     */
    public Tensor output(Node node) {
        int i = node.index();
        if (fusedWith[i] != null) {
            throw new IllegalStateException(node + "'s output is not kept: this inference plan computes it with "
                    + fusedWith[i] + " in one step (fused), and keeps only the latter's output; compile the model for "
                    + "training or for the input gradient to observe it");
        }
        Tensor out = outputs[i];
        if (out.layout() == null) {
            return out;
        }
        if (rowMajor[i] == null) {
            Tensor copy = arena.allocate(out.shape());
            enter();
            try {
                ops.reorder(out, copy);
            } finally {
                exit();
            }
            rowMajor[i] = copy;
        }
        return rowMajor[i];
    }

    /** The layout the plan keeps a node's output (and its gradient) in: null for row-major. */
    public Layout layout(Node node) {
        return outputs[node.index()].layout();
    }

    /** Where the loss writes dLoss/dOutput before {@link #backward}, row-major; null in an inference plan. */
    public Tensor outputGradient() {
        int last = model.output().index();
        return rowMajorGradient[last] != null ? rowMajorGradient[last] : gradients[last];
    }

    /** dLoss/dInput after {@link #backward}, when the plan was compiled to compute it; else null. */
    public Tensor inputGradient() {
        return gradients[0];
    }

    /** dLoss/dParameter after {@link #backward}; null for frozen parameters and inference plans. */
    public Tensor gradient(Parameter p) {
        return parameterGradients.get(p);
    }

    /** The parameters this plan computes gradients for, in model order (unmodifiable). */
    public List<Parameter> trainableParameters() {
        return trainable;
    }

    public int batchSize() {
        return batch;
    }

    /** Whether {@link #backward} may run: a training plan or an input-gradient plan. */
    public boolean isTraining() {
        return training;
    }

    /** Whether this plan was compiled by {@link Model#compileForInputGradient}: dLoss/dInput only, dropout off. */
    public boolean isInputGradientOnly() {
        return mode == Mode.INPUT_GRADIENT;
    }

    public Model model() {
        return model;
    }

    public Ops ops() {
        return ops;
    }

    /**
     * Runs every node that leads to the output; {@code training} turns dropout masks and workspaces
     * on. An input-gradient plan always records workspaces (its backward needs them) and never
     * drops out, whatever {@code training} says.
     */
    public void forward(boolean training) {
        boolean train = mode == Mode.INPUT_GRADIENT || (training && this.training);
        enter();
        try {
            recordedForBackward = false;
            for (int i = 0; i < steps.length; i++) { // nodes are indexed in topological order
                if (steps[i] != null) {
                    steps[i].forward(inputs[i], outputs[i], train);
                }
                if (rowMajor[i] != null) { // also for a fused activation, whose output its convolution has just written
                    ops.reorder(outputs[i], rowMajor[i]);
                }
            }
            recordedForBackward = train;
        } finally {
            exit();
        }
    }

    /**
     * Back-propagates {@link #outputGradient()} (set by the loss after a training forward pass):
     * every needed node gradient and every trainable parameter's gradient, each computed once (an
     * input-gradient plan: the node gradients on the way to the input, and no parameter's).
     * Refused unless the last forward pass was a training one ({@code forward(true)}), which
     * recorded the pooling workspaces and dropout masks this pass reads.
     */
    public void backward() {
        if (!training) {
            throw new IllegalStateException("this plan was compiled for inference; compile it for training to back-propagate");
        }
        if (!recordedForBackward) {
            throw new IllegalStateException("backward needs a completed forward(true) first: the last forward pass "
                    + "was an inference pass (forward(false)), failed, or never ran, so the pooling workspaces and dropout masks "
                    + "backward reads were not recorded");
        }
        enter();
        try {
            for (int i = nodes.size() - 1; i >= 1; i--) {
                if (steps[i] == null || !needsGradient[i]) {
                    continue;
                }
                if (rowMajorWritten[i]) { // every consumer has run: add in what those reading the row-major copy gave
                    if (rowMajorDirect[i]) {
                        ops.reorder(rowMajorGradient[i], gradients[i]);
                    } else {
                        ops.reorder(rowMajorGradient[i], scratch[i]);
                        ops.accumulate(scratch[i], gradients[i]);
                    }
                    backwardExecutions++;
                }
                steps[i].backward(inputs[i], outputs[i], gradients[i], inputGradients[i]);
                backwardExecutions++;
                for (int j = 0; j < sumInto[i].length; j++) {
                    if (sumInto[i][j] != null) {
                        ops.accumulate(inputGradients[i][j], sumInto[i][j]);
                        backwardExecutions++;
                    }
                }
            }
        } finally {
            exit();
        }
    }

    /** Holds the plan and its model for a pass. */
    private void enter() {
        lifetime.acquire(this);
        try {
            model.lifetime().acquire(model);
        } catch (RuntimeException e) {
            lifetime.release();
            throw e;
        }
    }

    private void exit() {
        model.lifetime().release();
        lifetime.release();
    }

    /** Backward step executions plus gradient accumulations since the plan was built. */
    public long backwardExecutions() {
        return backwardExecutions;
    }

    /**
     * Frees the plan's buffers and workspaces (not the model's parameters); later calls do
     * nothing. Throws {@link IllegalStateException}, freeing nothing, while a pass runs or an op
     * on another thread uses one of the plan's buffers.
     */
    @Override
    public void close() {
        if (!arena.isOpen()) {
            return;
        }
        arena.close(); // all or nothing: ends the one lifetime every pass and every op on a buffer holds
        for (Step s : steps) {
            if (s != null) {
                s.close(); // workspaces: only the passes, now impossible, used them
            }
        }
    }

    @Override
    public String toString() {
        return "Plan[" + mode.name().toLowerCase(java.util.Locale.ROOT) + ", batch " + batch + (lifetime.isAlive() ? "" : ", closed") + "]";
    }
}
