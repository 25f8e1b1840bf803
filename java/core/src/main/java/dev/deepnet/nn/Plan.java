package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
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
    private final boolean[][] direct; // [node][input slot]: this contribution is the first, written straight into the gradient
    private final Tensor[][] inputs; // [node]: its inputs' outputs
    private final Tensor[][] inputGradients; // [node]: where its step writes each input's gradient (or null)
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
        direct = new boolean[n][];
        inputs = new Tensor[n][];
        inputGradients = new Tensor[n][];
        steps = new Step[n];
        try {
            markLive(model.output());
            for (Node node : nodes) {
                int i = node.index();
                boolean trainable = withParameterGradients && !node.isInput()
                        && node.layer().parameters().stream().anyMatch(p -> !p.isFrozen());
                needsGradient[i] = training && live[i] && (trainable || (node.isInput() && inputGradient)
                        || node.inputs().stream().anyMatch(in -> needsGradient[in.index()]));
                outputs[i] = arena.allocate(shapes[i]);
                if (needsGradient[i] || (training && node == model.output())) {
                    gradients[i] = arena.allocate(shapes[i]);
                }
            }
            if (withParameterGradients) {
                for (Parameter p : model.parameters()) {
                    if (!p.isFrozen()) {
                        parameterGradients.put(p, arena.allocate(p.shape()));
                    }
                }
            }
            this.trainable = List.copyOf(parameterGradients.keySet());
            routeGradients(shapes);
            SplittableRandom random = new SplittableRandom(seed);
            Map<Parameter, Tensor> gradientView = Collections.unmodifiableMap(parameterGradients);
            for (Node node : nodes) {
                int i = node.index();
                SplittableRandom own = random.split(); // split for every node, live or not: masks do not depend on liveness
                if (node.isInput() || !live[i]) {
                    continue;
                }
                inputs[i] = node.inputs().stream().map(in -> outputs[in.index()]).toArray(Tensor[]::new);
                steps[i] = node.layer().step(new StepContext(ops, arena, gradientView, training, mode == Mode.TRAINING, own),
                        Model.inputShapes(node, shapes));
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
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

    /** Decides, per edge, whether a gradient contribution is written directly or added in. */
    private void routeGradients(Shape[] shapes) {
        boolean[] written = new boolean[nodes.size()];
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node node = nodes.get(i);
            if (node.isInput() || !live[i]) {
                continue;
            }
            int k = node.inputs().size();
            direct[i] = new boolean[k];
            inputGradients[i] = new Tensor[k];
            if (!needsGradient[i]) {
                continue; // nothing upstream needs anything from this node's backward step
            }
            for (int j = 0; j < k; j++) {
                int in = node.inputs().get(j).index();
                if (!needsGradient[in]) {
                    continue;
                }
                if (!written[in]) {
                    written[in] = true;
                    direct[i][j] = true;
                    inputGradients[i][j] = gradients[in];
                } else {
                    if (scratch[in] == null) {
                        scratch[in] = arena.allocate(shapes[in]);
                    }
                    inputGradients[i][j] = scratch[in];
                }
            }
        }
    }

    /** The input buffer (batch, sample...): copy a batch in before {@link #forward}. */
    public Tensor input() {
        return outputs[0];
    }

    /** The output of the last forward pass (batch, ...). */
    public Tensor output() {
        return outputs[model.output().index()];
    }

    /** The output of any node of the last forward pass (hidden activations). */
    public Tensor output(Node node) {
        return outputs[node.index()];
    }

    /** Where the loss writes dLoss/dOutput before {@link #backward}; null in an inference plan. */
    public Tensor outputGradient() {
        return gradients[model.output().index()];
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
                steps[i].backward(inputs[i], outputs[i], gradients[i], inputGradients[i]);
                backwardExecutions++;
                Node node = nodes.get(i);
                for (int j = 0; j < direct[i].length; j++) {
                    if (inputGradients[i][j] != null && !direct[i][j]) {
                        int in = node.inputs().get(j).index();
                        ops.accumulate(scratch[in], gradients[in]);
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
