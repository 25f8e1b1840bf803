package dev.deepnet.adversarial;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Parameter;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Softmax;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.Metrics;
import dev.deepnet.train.SoftmaxCrossEntropy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Attacks on a small convnet trained here, and on tiny nets where the gradient can be checked by hand. */
class GradientSignAttackTest {

    static Ops ops;
    static Model net;
    static Dataset test;

    @BeforeAll
    static void train() {
        // The plain-Java ops: at 8x8 pixels oneDNN's per-call cost dominates (its path is tested on the tiny net and in the lab).
        ops = new ReferenceOps();
        net = BarsClassifier.trained(ops);
        test = BarsClassifier.pictures(90, 7);
    }

    @AfterAll
    static void free() {
        test.close();
        net.close();
        ops.close();
    }

    static float[] weights(Model m) {
        List<Float> all = new ArrayList<>();
        for (Parameter p : m.parameters()) {
            for (float v : p.value().toArray()) {
                all.add(v);
            }
        }
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return out;
    }

    /** The model's labels for {@code images}, from an inference plan: an independent check of what the attack reports. */
    static int[] predict(Model m, Ops o, Tensor images) {
        try (Plan p = m.compileForInference(o, images.shape().intDim(0))) {
            p.input().copyFrom(images);
            p.forward(false);
            return Metrics.argmax(p.output());
        }
    }

    static List<GradientSignAttack> attacks(double eps) {
        return List.of(GradientSignAttack.fgsm(eps), GradientSignAttack.iterative(eps), GradientSignAttack.iterative(eps, 7, eps / 2),
                GradientSignAttack.iterative(eps).targeted(2), GradientSignAttack.fgsm(eps).targeted(0));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, 0.01, 0.05, 0.2, 0.6})
    void noPixelMovesMoreThanTheBudgetOrLeavesTheRange(double eps) {
        float[] original = test.inputs().toArray();
        int size = BarsClassifier.SIDE * BarsClassifier.SIDE;
        for (GradientSignAttack attack : attacks(eps)) {
            try (Tensor adv = Tensor.allocate(test.inputs().shape())) {
                GradientSignAttack.Result r = attack.run(net, ops, test.inputs(), test.labels(), adv);
                float[] x = adv.toArray();
                for (int j = 0; j < x.length; j++) {
                    // The issue asks for eps + 1e-6; the attack keeps within eps exactly (in double), rounding included.
                    int at = j;
                    assertTrue(Math.abs((double) x[j] - original[j]) <= eps, () -> attack + ": pixel " + at + " moved " + (x[at] - original[at]));
                    assertTrue(x[j] >= 0 && x[j] <= 1, () -> attack + ": pixel " + at + " is " + x[at]);
                }
                assertEquals(test.size(), r.outcomes().size());
                int[] labels = predict(net, ops, adv);
                for (int i = 0; i < test.size(); i++) {
                    GradientSignAttack.Outcome o = r.outcomes().get(i);
                    double linf = 0;
                    double sq = 0;
                    int changed = 0;
                    for (int j = i * size; j < (i + 1) * size; j++) {
                        double d = Math.abs((double) x[j] - original[j]);
                        linf = Math.max(linf, d);
                        sq += d * d;
                        changed += d >= 1 / 510.0 ? 1 : 0;
                    }
                    assertTrue(o.linf() <= eps, () -> attack + ": reported L-inf " + o.linf());
                    assertEquals(linf, o.linf(), 1e-9);
                    assertEquals(Math.sqrt(sq), o.l2(), 1e-6);
                    assertEquals(changed, o.pixelsChanged());
                    int image = i;
                    assertEquals(labels[i], o.newLabel(), () -> attack + ": image " + image + "'s new label is what the model says");
                    assertEquals(test.label(i), o.trueLabel());
                    assertEquals(attack.isTargeted() ? o.newLabel() == attack.target() : o.newLabel() != o.trueLabel(), o.success());
                }
            }
        }
    }

    /** With no budget nothing changes, and the original labels are the model's own. */
    @Test
    void aZeroBudgetChangesNothing() {
        int[] labels = predict(net, ops, test.inputs());
        try (Tensor adv = Tensor.allocate(test.inputs().shape())) {
            GradientSignAttack.Result r = GradientSignAttack.iterative(0).run(net, ops, test.inputs(), test.labels(), adv);
            assertArrayEquals(test.inputs().toArray(), adv.toArray());
            for (int i = 0; i < test.size(); i++) {
                GradientSignAttack.Outcome o = r.outcomes().get(i);
                assertEquals(labels[i], o.originalLabel());
                assertEquals(o.originalLabel(), o.newLabel());
                assertEquals(o.originalConfidence(), o.newConfidence(), 1e-6);
                assertEquals(0, o.pixelsChanged());
            }
        }
    }

    /** The net labels well, yet a budget of 0.3 flips almost every label; the iterative attack does at least as well as FGSM. */
    @Test
    void aBudgetFlipsTheLabelsOfAWellTrainedNet() {
        int[] before = predict(net, ops, test.inputs());
        int right = 0;
        for (int i = 0; i < test.size(); i++) {
            right += before[i] == test.label(i) ? 1 : 0;
        }
        assertTrue(right >= 0.95 * test.size(), "the net labels well: " + right + " of " + test.size());
        try (Tensor adv = Tensor.allocate(test.inputs().shape())) {
            double iterative = GradientSignAttack.iterative(0.3).run(net, ops, test.inputs(), test.labels(), adv).successRate();
            double fgsm = GradientSignAttack.fgsm(0.3).run(net, ops, test.inputs(), test.labels(), adv).successRate();
            assertTrue(iterative >= 0.9, "iterative, eps 0.3: " + iterative);
            assertTrue(iterative >= fgsm, "iterative " + iterative + " vs FGSM " + fgsm);
            double small = GradientSignAttack.iterative(0.01).run(net, ops, test.inputs(), test.labels(), adv).successRate();
            assertTrue(small < iterative, "a smaller budget flips fewer: " + small + " vs " + iterative);
        }
    }

    @Test
    void targetedAttacksReachTheTarget() {
        for (int target = 0; target < BarsClassifier.CLASSES; target++) {
            try (Tensor adv = Tensor.allocate(test.inputs().shape())) {
                GradientSignAttack.Result r = GradientSignAttack.iterative(0.4, 40, 0.02).targeted(target)
                        .run(net, ops, test.inputs(), test.labels(), adv);
                int[] labels = predict(net, ops, adv);
                int others = 0;
                int reached = 0;
                for (int i = 0; i < test.size(); i++) {
                    assertEquals(labels[i] == target, r.outcomes().get(i).success());
                    if (test.label(i) != target) {
                        others++;
                        reached += labels[i] == target ? 1 : 0;
                    }
                }
                assertTrue(reached >= 0.9 * others, "target " + target + ": " + reached + " of " + others + " images made into it");
            }
        }
    }

    /**
     * On a tiny dense net, FGSM moves each pixel by +-eps along the sign of dLoss/dx estimated by
     * central finite differences of the cross-entropy (pixels start inside (eps, 1 - eps), so
     * nothing is clamped).
     */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "onednn"})
    void fgsmMovesEveryPixelAlongTheSignOfTheFiniteDifferenceGradient(String backend) {
        double eps = 0.05;
        try (Ops o = backend.equals("onednn") ? new OneDnnOps(0, 0) : new ReferenceOps();
             Model tiny = Model.sequential(Shape.of(6), 4, new Dense(6, 5, Activation.TANH), new Dense(5, 3));
             Tensor x = Tensor.allocate(Shape.of(4, 6)); Tensor adv = Tensor.allocate(Shape.of(4, 6));
             Plan inference = tiny.compileForInference(o, 4)) {
            SplittableRandom r = new SplittableRandom(8);
            for (long i = 0; i < x.size(); i++) {
                x.setFlat(i, (float) r.nextDouble(0.2, 0.8));
            }
            int[] labels = {0, 1, 2, 1};
            GradientSignAttack.fgsm(eps).run(tiny, o, x, labels, adv);
            float[] onehot = new float[12];
            for (int i = 0; i < 4; i++) {
                onehot[i * 3 + labels[i]] = 1;
            }
            try (Tensor target = Tensor.of(Shape.of(4, 3), onehot)) {
                SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
                double h = 1e-3;
                int checked = 0;
                for (int j = 0; j < 24; j++) {
                    inference.input().copyFrom(x);
                    float v = x.getFlat(j);
                    inference.input().setFlat(j, (float) (v + h));
                    inference.forward(false);
                    double plus = loss.value(inference.output(), target);
                    inference.input().setFlat(j, (float) (v - h));
                    inference.forward(false);
                    double minus = loss.value(inference.output(), target);
                    double fd = (plus - minus) / (2 * h);
                    if (Math.abs(fd) < 1e-4) {
                        continue; // too flat for a finite difference to tell the sign
                    }
                    checked++;
                    assertEquals(Math.signum(fd) * eps, adv.getFlat(j) - v, 1e-6, backend + ": pixel " + j + ", finite difference " + fd);
                }
                assertTrue(checked >= 20, "most pixels have a clear gradient: " + checked);
            }
        }
    }

    /** The attack reads the model and writes only the output tensor: weights bit for bit, frozen flags as they were; on both backends. */
    @Test
    void theModelIsLeftExactlyAsItWas() {
        float[] before = weights(net);
        net.layers().get(0).freeze();
        try (Tensor adv = Tensor.allocate(test.inputs().shape()); Ops oneDnn = new OneDnnOps()) {
            float[] images = test.inputs().toArray();
            for (Ops o : List.of(ops, oneDnn)) {
                GradientSignAttack.iterative(0.2).run(net, o, test.inputs(), test.labels(), adv);
                GradientSignAttack.fgsm(0.2).targeted(1).run(net, o, test.inputs(), test.labels(), adv);
            }
            assertArrayEquals(images, test.inputs().toArray(), "the images attacked are not changed");
        } finally {
            assertTrue(net.layers().get(0).parameters().get(0).isFrozen());
            net.layers().get(0).unfreeze();
        }
        assertArrayEquals(before, weights(net));
    }

    /** Results are the same whatever the batch size, on every run, and attacking in place. */
    @Test
    void resultsDoNotDependOnTheBatchSizeOrTheRun() {
        try (ReferenceOps reference = new ReferenceOps(); Tensor a = Tensor.allocate(test.inputs().shape());
             Tensor b = Tensor.allocate(test.inputs().shape()); Tensor c = Tensor.allocate(test.inputs().shape());
             Tensor inPlace = Tensor.allocate(test.inputs().shape()).copyFrom(test.inputs())) {
            GradientSignAttack attack = GradientSignAttack.iterative(0.1);
            GradientSignAttack.Result ra = attack.run(net, reference, test.inputs(), test.labels(), a);
            GradientSignAttack.Result rb = attack.batchSize(7).run(net, reference, test.inputs(), test.labels(), b);
            attack.run(net, reference, test.inputs(), test.labels(), c);
            GradientSignAttack.Result rd = attack.batchSize(7).run(net, reference, inPlace, test.labels(), inPlace);
            assertArrayEquals(a.toArray(), b.toArray());
            assertArrayEquals(a.toArray(), c.toArray());
            assertArrayEquals(a.toArray(), inPlace.toArray());
            assertEquals(ra.outcomes(), rb.outcomes());
            assertEquals(ra.outcomes(), rd.outcomes());
        }
    }

    /**
     * A model that ends in a Softmax layer (probabilities out) is attacked like the same net
     * giving raw scores: the two share their layers, so the gradients agree up to rounding.
     */
    @Test
    void aSoftmaxOutputIsAttackedLikeRawScores() {
        Dense hidden = new Dense(6, 5, Activation.TANH);
        Dense out = new Dense(5, 3);
        Model scores = Model.sequential(Shape.of(6), 4, hidden, out);
        Model probabilities = Model.sequential(Shape.of(6), 4, hidden, out, new Softmax());
        try (Tensor x = Tensor.allocate(Shape.of(5, 6)); Tensor a = Tensor.allocate(Shape.of(5, 6)); Tensor b = Tensor.allocate(Shape.of(5, 6))) {
            SplittableRandom r = new SplittableRandom(2);
            for (long i = 0; i < x.size(); i++) {
                x.setFlat(i, (float) r.nextDouble());
            }
            int[] labels = {0, 1, 2, 0, 1};
            GradientSignAttack attack = GradientSignAttack.iterative(0.3, 5, 0.1);
            GradientSignAttack.Result ra = attack.run(scores, ops, x, labels, a);
            GradientSignAttack.Result rb = attack.run(probabilities, ops, x, labels, b);
            assertArrayEquals(a.toArray(), b.toArray(), 1e-6f);
            for (int i = 0; i < labels.length; i++) {
                assertEquals(ra.outcomes().get(i).newLabel(), rb.outcomes().get(i).newLabel());
                assertEquals(ra.outcomes().get(i).newConfidence(), rb.outcomes().get(i).newConfidence(), 1e-5);
            }
        } finally {
            scores.close(); // the layers are shared: close one model only
        }
    }

    static void assertRejected(String expected, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should say '" + expected + "'");
    }

    @Test
    void badArgumentsAreRejectedNamingWhatIsWrong() {
        assertRejected("epsilon (the L-infinity budget) must be a finite number >= 0, got -0.1", () -> GradientSignAttack.fgsm(-0.1));
        assertRejected("epsilon", () -> GradientSignAttack.iterative(Double.NaN));
        assertRejected("steps must be >= 1, got 0", () -> GradientSignAttack.iterative(0.1, 0, 0.01));
        assertRejected("stepSize must be a finite number >= 0, got -1", () -> GradientSignAttack.iterative(0.1, 3, -1));
        assertRejected("target class must be >= 0, got -2", () -> GradientSignAttack.fgsm(0.1).targeted(-2));
        assertRejected("pixel range needs finite low < high, got [1.0, 0.0]", () -> GradientSignAttack.fgsm(0.1).pixelRange(1, 0));
        assertRejected("batch size must be >= 1", () -> GradientSignAttack.fgsm(0.1).batchSize(0));
        int[] labels = test.labels();
        try (Tensor wrong = Tensor.allocate(Shape.of(2, 1, 7, 7)); Tensor flat = Tensor.allocate(Shape.of(2, 64));
             Tensor adv = Tensor.allocate(test.inputs().shape()); Tensor small = Tensor.allocate(Shape.of(3, 1, 8, 8));
             Model notAClassifier = Model.sequential(Shape.of(1, 8, 8), 1, new Conv2d(1, 2, 3, 1, 1))) {
            GradientSignAttack fgsm = GradientSignAttack.fgsm(0.1);
            assertRejected("images (2, 1, 7, 7) do not fit the model, which takes (N, 1, 8, 8)",
                    () -> fgsm.run(net, ops, wrong, new int[2], wrong));
            assertRejected("images (2, 64) do not fit the model, which takes (N, 1, 8, 8)", () -> fgsm.run(net, ops, flat, new int[2], flat));
            assertRejected("the output tensor (3, 1, 8, 8) must have the images' shape (90, 1, 8, 8)",
                    () -> fgsm.run(net, ops, test.inputs(), labels, small));
            assertRejected("90 images but 3 labels", () -> fgsm.run(net, ops, test.inputs(), new int[3], adv));
            int[] bad = labels.clone();
            bad[5] = 7;
            assertRejected("label 7 of image 5 is not a class of the model [0, 3)", () -> fgsm.run(net, ops, test.inputs(), bad, adv));
            assertRejected("target class 3 is not a class of the model [0, 3)",
                    () -> fgsm.targeted(3).run(net, ops, test.inputs(), labels, adv));
            small.fill(0.5f);
            small.setFlat(64 + 10, 1.5f);
            assertRejected("image 1 has pixel 10 at 1.5, outside the pixel range [0.0, 1.0]",
                    () -> fgsm.run(net, ops, small, new int[3], small));
            assertRejected("GradientSignAttack: a classifier outputs one score per class, but this model's output per sample is (2, 8, 8)",
                    () -> fgsm.run(notAClassifier, ops, small, new int[3], small));
        }
    }
}
