package dev.deepnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Layout;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.MeanSquaredError;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A plan on oneDNN keeps activations and gradients in the layouts the primitives choose: layers
 * that agree on a layout pass their buffers on as they are (counted: no reorder between them),
 * conversions happen only at the plan's edges and before layers that read row-major, and the
 * numbers are the reference backend's.
 */
class LayoutPlanTest {

    /** conv 16->16 3x3, relu, conv 16->16 3x3, relu, max pool 2x2: every step takes any layout. */
    private static Model convStack(Node[] keep) {
        Model.Builder b = Model.builder(Shape.of(16, 8, 8));
        Node c1 = b.add(new Conv2d(16, 16, 3, 3, Conv2dSpec.of(1, 1)), b.input());
        Node r1 = b.add(new Relu(), c1);
        Node c2 = b.add(new Conv2d(16, 16, 3, 3, Conv2dSpec.of(1, 1)), r1);
        Node r2 = b.add(new Relu(), c2);
        Node p = b.add(new MaxPool2d(Pool2dSpec.of(2, 2, 0)), r2);
        keep[0] = c1;
        keep[1] = r1;
        keep[2] = c2;
        keep[3] = r2;
        keep[4] = p;
        return b.build(p, 3);
    }

    private static void fill(Tensor t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        t.copyFrom(v);
    }

    @Test
    void consecutiveLayersThatAgreeOnALayoutRunWithoutReordersBetweenThem() {
        Node[] n = new Node[5];
        try (OneDnnOps ops = new OneDnnOps(0, 0); Model net = convStack(n); Plan plan = net.compileForTraining(ops, 2, 1);
             Tensor target = Tensor.allocate(plan.output().shape())) {
            Layout layout = plan.layout(n[0]);
            assertNotNull(layout, "oneDNN keeps a 16-channel convolution's output in a layout of its own");
            for (Node node : n) {
                assertEquals(layout.tag(), plan.layout(node).tag(), node + " keeps its input's layout");
            }
            assertEquals(layout, plan.layout(n[3]), "same shape, same layout");
            fill(plan.input(), 1);
            fill(target, 2);
            MeanSquaredError mse = new MeanSquaredError();
            plan.forward(true); // first pass: primitives are built
            mse.evaluate(plan.output(), target, plan.outputGradient());
            plan.backward();

            long before = ops.reordersRun();
            plan.forward(true);
            long forward = ops.reordersRun() - before;
            // The two edges: the row-major input into the first convolution's layout, and the pooled
            // output back to row-major. Nothing between the five steps.
            assertEquals(2, forward, "forward pass ran " + forward + " activation reorders");
            mse.evaluate(plan.output(), target, plan.outputGradient());
            before = ops.reordersRun();
            plan.backward();
            long backward = ops.reordersRun() - before;
            // The edges again: the loss gradient converted in, the row-major input converted for the
            // first convolution's weight gradient (no input gradient is computed). The backward
            // primitives work in the layout the forward pass keeps, so nothing between them.
            assertEquals(2, backward, "backward pass ran " + backward + " activation reorders");
        }
    }

    @Test
    void aRowMajorLayerBetweenOneDnnLayersGetsARowMajorCopyAndItsGradientFlowsBack() {
        // conv -> relu, whose output three layers read: a sigmoid and a tanh in its layout, a
        // dropout (row-major only) from a row-major copy. Their gradients meet in the relu: two
        // added in its layout, one summed row-major and converted in. An add of the two in-layout
        // branches keeps the layout; an add of that and the dropout (layouts differ) reads
        // row-major copies; flatten then dense.
        Model.Builder b = Model.builder(Shape.of(16, 4, 4));
        Node c = b.add(new Conv2d(16, 16, 3, 3, Conv2dSpec.of(1, 1)), b.input());
        Node r = b.add(new Relu(), c);
        Node sig = b.add(new Sigmoid(), r);
        Node tanh = b.add(new Tanh(), r);
        Node twice = b.add(new Add(), sig, tanh); // keeps the layout
        Node drop = b.add(new Dropout(0.0), r); // reads row-major: a copy of r
        Node sum = b.add(new Add(), twice, drop); // layouts differ: row-major copies
        Node flat = b.add(new Flatten(), sum);
        Node out = b.add(new Dense(16 * 16, 3, dev.deepnet.ops.Activation.LINEAR), flat);
        try (Model net = b.build(out, 5); OneDnnOps onednn = new OneDnnOps(0, 0); ReferenceOps reference = new ReferenceOps();
             Plan fast = net.compileForTraining(onednn, 2, 9, true); Plan slow = net.compileForTraining(reference, 2, 9, true);
             Tensor target = Tensor.allocate(Shape.of(2, 3))) {
            assertNotNull(fast.layout(r));
            assertEquals(fast.layout(r), fast.layout(twice));
            assertNull(fast.layout(drop));
            assertNull(fast.layout(sum));
            assertNull(slow.layout(r), "the reference backend keeps everything row-major");
            fill(fast.input(), 3);
            slow.input().copyFrom(fast.input());
            fill(target, 4);
            trainingStep(target, fast, slow);
            assertClose(slow.output().toArray(), fast.output().toArray(), "output");
            assertClose(slow.output(r).toArray(), fast.output(r).toArray(), "hidden output, read row-major");
            assertClose(slow.inputGradient().toArray(), fast.inputGradient().toArray(), "input gradient");
            Conv2d conv = (Conv2d) c.layer();
            assertClose(slow.gradient(conv.weight()).toArray(), fast.gradient(conv.weight()).toArray(), "conv weight gradient");
        }
    }

    @Test
    void hiddenOutputsInALayoutAreReadRowMajorAndKeptUpToDate() {
        Node[] n = new Node[5];
        try (OneDnnOps ops = new OneDnnOps(0, 0); ReferenceOps reference = new ReferenceOps(); Model net = convStack(n);
             Plan fast = net.compileForInference(ops, 1); Plan slow = net.compileForInference(reference, 1)) {
            fill(fast.input(), 7);
            slow.input().copyFrom(fast.input());
            fast.forward(false);
            slow.forward(false);
            Tensor hidden = fast.output(n[1]);
            assertTrue(hidden.isRowMajor());
            assertClose(slow.output(n[1]).toArray(), hidden.toArray(), "relu output after the first pass");
            fill(fast.input(), 8);
            slow.input().copyFrom(fast.input());
            fast.forward(false);
            slow.forward(false);
            assertClose(slow.output(n[1]).toArray(), hidden.toArray(), "the same tensor after the next pass");
        }
    }

    @Test
    void tensorsInABackendLayoutRefuseRowMajorAccessAndReferenceOps() {
        Node[] n = new Node[5];
        try (OneDnnOps ops = new OneDnnOps(0, 0); ReferenceOps reference = new ReferenceOps(); Model net = convStack(n);
             Plan plan = net.compileForInference(ops, 1)) {
            // The plan's internal buffer, in oneDNN's layout: reached only through a plan's step, so
            // build one the same way to check what a user holding such a tensor sees.
            Layout layout = plan.layout(n[0]);
            try (dev.deepnet.tensor.TensorArena arena = new dev.deepnet.tensor.TensorArena()) {
                Tensor blocked = arena.allocate(Shape.of(1, 16, 8, 8), layout);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> blocked.get(0, 0, 0, 0));
                assertTrue(e.getMessage().contains(layout.tag()), e.getMessage());
                assertThrows(IllegalStateException.class, blocked::toArray);
                assertThrows(IllegalStateException.class, () -> blocked.reshape(Shape.of(16, 64)));
                Tensor plain = arena.allocate(Shape.of(1, 16, 8, 8));
                IllegalArgumentException r = assertThrows(IllegalArgumentException.class, () -> reference.reorder(blocked, plain));
                assertTrue(r.getMessage().contains("row-major"), r.getMessage());
                IllegalArgumentException s = assertThrows(IllegalArgumentException.class,
                        () -> ops.softmaxForward(blocked, plain, false));
                assertTrue(s.getMessage().contains("row-major"), s.getMessage());
                // Round trip through the layout: the values come back.
                fill(plain, 11);
                Tensor back = arena.allocate(Shape.of(1, 16, 8, 8));
                ops.reorder(plain, blocked);
                ops.reorder(blocked, back);
                assertArrayEquals(plain.toArray(), back.toArray());
            }
        }
    }

    @Test
    void theReferenceBackendChoosesNoLayouts() {
        try (Ops reference = new ReferenceOps()) {
            assertNull(reference.conv2dOutputLayout(Conv2dSpec.of(1, 1), Shape.of(2, 16, 8, 8), Shape.of(16, 16, 3, 3), true));
        }
    }

    @Test
    void anInferencePlanFusesAConvolutionWithTheActivationThatAloneReadsIt() {
        Node[] n = new Node[5];
        try (OneDnnOps ops = new OneDnnOps(0, 0); ReferenceOps reference = new ReferenceOps(); Model net = convStack(n);
             Plan fused = net.compileForInference(ops, 2); Plan slow = net.compileForInference(reference, 2);
             Plan training = net.compileForTraining(ops, 2, 1)) {
            fill(fused.input(), 5);
            slow.input().copyFrom(fused.input());
            training.input().copyFrom(fused.input());
            fused.forward(false);
            slow.forward(false);
            training.forward(false);
            assertClose(slow.output().toArray(), fused.output().toArray(), "fused inference vs the reference");
            assertClose(training.output().toArray(), fused.output().toArray(), "fused inference vs the unfused training plan");
            assertClose(slow.output(n[3]).toArray(), fused.output(n[3]).toArray(), "the fused activation's output");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> fused.output(n[2]));
            assertTrue(e.getMessage().contains("fused"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> slow.output(n[2]), "fusion is the plan's, on every backend");
            assertTrue(training.output(n[2]).isRowMajor(), "a training plan keeps the convolution's output");
        }
    }

    @Test
    void anInferencePlanFusesADenseLayersActivation() {
        for (dev.deepnet.ops.Activation f : dev.deepnet.ops.Activation.values()) {
            try (OneDnnOps ops = new OneDnnOps(0, 0); ReferenceOps reference = new ReferenceOps();
                 Model net = Model.sequential(Shape.of(40), 2, new Dense(40, 30, f), new Dense(30, 20, f));
                 Plan fused = net.compileForInference(ops, 3); Plan slow = net.compileForInference(reference, 3);
                 Plan training = net.compileForTraining(ops, 3, 1)) {
                fill(fused.input(), 6);
                slow.input().copyFrom(fused.input());
                training.input().copyFrom(fused.input());
                fused.forward(false);
                slow.forward(false);
                training.forward(false);
                assertClose(slow.output().toArray(), fused.output().toArray(), f + ": fused vs the reference");
                assertClose(training.output().toArray(), fused.output().toArray(), f + ": fused vs unfused");
            }
        }
    }

    @Test
    void anInferencePlanKeepsConvolutionWeightsPackedAndRepacksThemWhenTheyChange() {
        Node[] n = new Node[5];
        try (OneDnnOps ops = new OneDnnOps(0, 0); ReferenceOps reference = new ReferenceOps(); Model net = convStack(n);
             Plan fast = net.compileForInference(ops, 1); Plan slow = net.compileForInference(reference, 1)) {
            fill(fast.input(), 9);
            slow.input().copyFrom(fast.input());
            fast.forward(false); // packs both convolutions' weights once (two reorders)
            long weights = ops.weightReordersRun();
            long reorders = ops.reordersRun();
            fast.forward(false);
            long edges = ops.reordersRun() - reorders; // the input in, the output out
            assertEquals(weights, ops.weightReordersRun(), "no call converts weights: they are packed");
            slow.forward(false);
            assertClose(slow.output().toArray(), fast.output().toArray(), "packed weights");

            Conv2d second = (Conv2d) n[2].layer();
            fill(second.weight().value(), 10); // value(): counted as a change
            reorders = ops.reordersRun();
            fast.forward(false);
            assertEquals(edges + 1, ops.reordersRun() - reorders, "only the changed weights are packed again");
            slow.forward(false);
            assertClose(slow.output().toArray(), fast.output().toArray(), "after the weights changed");

            Tensor kept = second.weight().value();
            fast.forward(false);
            fill(kept, 12); // written through a kept tensor: markChanged says so
            second.weight().markChanged();
            reorders = ops.reordersRun();
            fast.forward(false);
            assertEquals(edges + 1, ops.reordersRun() - reorders);
            slow.forward(false);
            assertClose(slow.output().toArray(), fast.output().toArray(), "after markChanged");
            assertEquals(weights, ops.weightReordersRun());
        }
    }

    /** conv 8->16, relu, depthwise 3x3 (16 groups), relu, 1x1 in 2 groups 16->8, relu: MobileNet's block, grouped. */
    private static Model groupedStack() {
        return Model.sequential(Shape.of(8, 7, 7), 4,
                new Conv2d(8, 16, 3, 3, Conv2dSpec.of(1, 1)), new Relu(),
                new Conv2d(16, 16, 3, 3, Conv2dSpec.of(2, 1).withGroups(16)), new Relu(),
                new Conv2d(16, 8, 1, 1, Conv2dSpec.of(1, 0).withGroups(2)), new Relu());
    }

    @Test
    void groupedConvolutionsKeepTheirLayoutsFuseAndTrainAsTheReferenceDoes() {
        try (Model net = groupedStack(); OneDnnOps onednn = new OneDnnOps(0, 0); ReferenceOps reference = new ReferenceOps();
             Plan fast = net.compileForTraining(onednn, 2, 9, true); Plan slow = net.compileForTraining(reference, 2, 9, true);
             Plan fused = net.compileForInference(onednn, 2); Tensor target = Tensor.allocate(fast.output().shape())) {
            Node depthwise = net.nodes().get(3);
            assertNotNull(fast.layout(depthwise), "oneDNN keeps the depthwise convolution's output in a layout of its own");
            fill(fast.input(), 3);
            slow.input().copyFrom(fast.input());
            fused.input().copyFrom(fast.input());
            fill(target, 4);
            trainingStep(target, fast, slow);
            fused.forward(false);
            assertClose(slow.output().toArray(), fast.output().toArray(), "output");
            assertClose(slow.output().toArray(), fused.output().toArray(), "fused inference output");
            assertThrows(IllegalStateException.class, () -> fused.output(depthwise), "the depthwise convolution fuses its relu");
            assertClose(slow.inputGradient().toArray(), fast.inputGradient().toArray(), "input gradient");
            for (Parameter p : net.parameters()) {
                assertClose(slow.gradient(p).toArray(), fast.gradient(p).toArray(), p + " gradient");
            }
        }
    }

    @Test
    void adaptivePoolingKeepsTheLayoutWhereItsBinsAreEqualWindowsAndReadsRowMajorElsewhere() {
        Model.Builder b = Model.builder(Shape.of(4, 8, 8));
        Node c = b.add(new Conv2d(4, 16, 3, 3, Conv2dSpec.of(1, 1)), b.input());
        Node equal = b.add(new AdaptiveAvgPool2d(4, 2), c);
        Node global = b.add(AdaptiveAvgPool2d.global(), equal);
        Node unequal = b.add(new AdaptiveAvgPool2d(3, 3), c);
        Node out = b.add(new Concat(), b.add(new Flatten(), global), b.add(new Flatten(), unequal));
        try (Model net = b.build(out, 5); OneDnnOps onednn = new OneDnnOps(0, 0); ReferenceOps reference = new ReferenceOps();
             Plan fast = net.compileForTraining(onednn, 2, 9, true); Plan slow = net.compileForTraining(reference, 2, 9, true);
             Tensor target = Tensor.allocate(fast.output().shape())) {
            assertNotNull(fast.layout(c));
            assertEquals(fast.layout(c).tag(), fast.layout(equal).tag(), "equal bins: average pooling in the convolution's layout");
            assertEquals(fast.layout(c).tag(), fast.layout(global).tag());
            assertNull(fast.layout(unequal), "unequal bins: plain loops on a row-major copy");
            fill(fast.input(), 3);
            slow.input().copyFrom(fast.input());
            fill(target, 4);
            trainingStep(target, fast, slow);
            assertClose(slow.output().toArray(), fast.output().toArray(), "output");
            assertClose(slow.inputGradient().toArray(), fast.inputGradient().toArray(), "input gradient");
        }
    }

    /** One forward and backward pass of each plan, the loss the squared error against {@code target}. */
    private static void trainingStep(Tensor target, Plan... plans) {
        MeanSquaredError mse = new MeanSquaredError();
        for (Plan p : plans) {
            p.forward(true);
            mse.evaluate(p.output(), target, p.outputGradient());
            p.backward();
        }
    }

    @Test
    void poolingKeepsTheLayoutForItsOwnShapeSoAResidualAddAfterItKeepsItToo() {
        // conv, relu, max pool (halves H and W), then a residual block on the pooled maps: add(conv(pool), pool)
        Model.Builder b = Model.builder(Shape.of(16, 8, 8));
        Node c1 = b.add(new Conv2d(16, 16, 3, 3, Conv2dSpec.of(1, 1)), b.input());
        Node r1 = b.add(new Relu(), c1);
        Node pool = b.add(new MaxPool2d(Pool2dSpec.of(2, 2, 0)), r1);
        Node c2 = b.add(new Conv2d(16, 16, 3, 3, Conv2dSpec.of(1, 1)), pool);
        Node sum = b.add(new Add(), c2, pool);
        Node out = b.add(new Relu(), sum);
        try (Model net = b.build(out, 3); OneDnnOps ops = new OneDnnOps(0, 0); ReferenceOps reference = new ReferenceOps();
             Plan fast = net.compileForInference(ops, 2); Plan slow = net.compileForInference(reference, 2)) {
            assertNotNull(fast.layout(pool));
            assertEquals(fast.layout(c2), fast.layout(pool), "the pooled maps' layout is sized for their own shape");
            assertEquals(fast.layout(pool), fast.layout(sum), "so the add keeps it instead of reading row-major copies");
            fill(fast.input(), 21);
            slow.input().copyFrom(fast.input());
            fast.forward(false);
            long before = ops.reordersRun();
            fast.forward(false);
            assertEquals(2, ops.reordersRun() - before, "the input in and the output out, nothing between");
            slow.forward(false);
            assertClose(slow.output().toArray(), fast.output().toArray(), "output");
            assertThrows(IllegalStateException.class, () -> fast.output(sum), "the add computes its relu too (fused)");
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4 * Math.max(1, scale), what + " at " + i);
        }
    }
}
