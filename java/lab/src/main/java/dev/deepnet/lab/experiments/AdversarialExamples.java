package dev.deepnet.lab.experiments;

import dev.deepnet.adversarial.GradientSignAttack;
import dev.deepnet.data.Dataset;
import dev.deepnet.infer.Classifier;
import dev.deepnet.lab.report.Charts;
import dev.deepnet.lab.report.ImageGrid;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Adversarial examples on the lab's Fashion-MNIST convnet: a change too small to matter to a
 * person flips a confident label. Over a seeded sample of correctly classified test images, the
 * fraction flipped at each L-infinity budget by the fast gradient sign method and by the projected
 * iterative attack (and, targeted, made a bag); a few images drawn with their (amplified)
 * perturbation. The pieces are shared with {@code deepnet adversarial}, which runs them on any
 * saved classifier.
 */
public final class AdversarialExamples implements Experiment {

    /** L-infinity budgets on [0, 1] pixels (0.1 is about 26 grey levels of 255). */
    public static final double[] BUDGETS = {0.01, 0.02, 0.05, 0.1, 0.2};
    /** The budget the claim is judged at, and the bar (the issue's test). */
    static final double CLAIM_BUDGET = 0.1;
    static final double CLAIM_RATE = 0.9;
    static final int SAMPLE = 500;
    static final long SEED = 7;
    /** The targeted attack's class: the lecture's "make it a school bus", in Fashion-MNIST. */
    static final int TARGET = 8;
    static final int EXAMPLES = 6;
    static final int TARGETED_EXAMPLES = 3;
    /** Examples are images the net was sure of: the lecture's point is a confident label flipping. */
    static final double CONFIDENT = 0.9;

    @Override
    public String name() {
        return "adversarial";
    }

    @Override
    public String title() {
        return "Adversarial examples: an imperceptible change flips a confident label";
    }

    /**
     * Success rates per budget for FGSM, the iterative attack, and the iterative attack targeted
     * at {@code target} (null when untargeted only; the rate among images not already of the
     * target class); and, per budget, the iterative attack's outcomes and images.
     */
    public record Curve(double[] budgets, int steps, double[] fgsm, double[] iterative, double[] targeted, int target,
            List<List<GradientSignAttack.Outcome>> iterativeOutcomes, List<float[]> iterativeImages) {}

    /**
     * {@code count} test images the classifier labels correctly, drawn in a seeded random order:
     * their rows in the test set (fewer when the set holds fewer).
     */
    public static int[] correctlyClassified(Model model, Ops ops, Dataset test, int count, long seed) {
        int n = test.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] chosen = new int[count];
        int found = 0;
        int batch = Math.min(250, n);
        try (Classifier classifier = new Classifier(model, ops, batch);
             Tensor images = Tensor.allocate(test.inputs().shape().withDim(0, batch))) {
            for (int from = 0; from < n && found < count; from += batch) {
                int rows = Math.min(batch, n - from);
                Tensor slice = images.slice(0, rows);
                test.copyBatch(order, from, rows, slice, null);
                int[] predicted = classifier.predictedClasses(slice.toArray(), rows);
                for (int i = 0; i < rows && found < count; i++) {
                    if (predicted[i] == test.label(order[from + i])) {
                        chosen[found++] = order[from + i];
                    }
                }
            }
        }
        return Arrays.copyOf(chosen, found);
    }

    /** Every attack at every budget on {@code sample}; {@code target < 0} skips the targeted attack. */
    public static Curve measure(Model model, Ops ops, Dataset sample, double[] budgets, int steps, int target) {
        double[] fgsm = new double[budgets.length];
        double[] iterative = new double[budgets.length];
        double[] targeted = target < 0 ? null : new double[budgets.length];
        List<List<GradientSignAttack.Outcome>> outcomes = new ArrayList<>();
        List<float[]> images = new ArrayList<>();
        int[] labels = sample.labels();
        // The whole sample in one batch: each oneDNN primitive call pays a thread fork/join, so fewer, larger calls are faster.
        int n = sample.size();
        try (Tensor adv = Tensor.allocate(sample.inputs().shape())) {
            for (int b = 0; b < budgets.length; b++) {
                fgsm[b] = GradientSignAttack.fgsm(budgets[b]).batchSize(n).run(model, ops, sample.inputs(), labels, adv).successRate();
                GradientSignAttack iterate = iterative(budgets[b], steps).batchSize(n);
                GradientSignAttack.Result r = iterate.run(model, ops, sample.inputs(), labels, adv);
                iterative[b] = r.successRate();
                outcomes.add(r.outcomes());
                images.add(adv.toArray());
                if (targeted != null) {
                    targeted[b] = targetedRate(iterate.targeted(target).run(model, ops, sample.inputs(), labels, adv), target);
                }
            }
        }
        return new Curve(budgets.clone(), steps, fgsm, iterative, targeted, target, outcomes, images);
    }

    /** The iterative attack with {@code steps} steps of 2.5 eps / steps (Madry et al.'s rule). */
    static GradientSignAttack iterative(double eps, int steps) {
        return GradientSignAttack.iterative(eps, steps, 2.5 * eps / steps);
    }

    /** Targeted success among the images that were not already of the target class. */
    private static double targetedRate(GradientSignAttack.Result r, int target) {
        int others = 0;
        int made = 0;
        for (GradientSignAttack.Outcome o : r.outcomes()) {
            if (o.trueLabel() != target) {
                others++;
                made += o.success() ? 1 : 0;
            }
        }
        return others == 0 ? 0 : (double) made / others;
    }

    /** The success-rate-vs-budget chart. */
    public static void chart(Path png, Curve c, int images, List<String> names) throws IOException {
        double[] x = c.budgets();
        List<Charts.Series> series = new ArrayList<>(List.of(new Charts.Series("FGSM (one step)", x, percent(c.fgsm())),
                new Charts.Series("iterative (" + c.steps() + " projected steps)", x, percent(c.iterative()))));
        if (c.targeted() != null) {
            series.add(new Charts.Series("iterative, targeted: made a " + className(names, c.target()), x, percent(c.targeted())));
        }
        Charts.lines(png, "Labels flipped vs L-infinity budget (" + images + " correctly classified test images)",
                "L-infinity budget (pixels in [0, 1])", "images whose label flipped (%)", series);
    }

    /** The success rates as a table, one row per budget. */
    public static Table rates(Curve c, int images, long seed, List<String> names) {
        String made = c.targeted() == null ? "" : "; targeted: images not already a " + className(names, c.target()) + " labelled one";
        List<String> headers = new ArrayList<>(List.of("L-inf budget", "grey levels of 255", "FGSM", "iterative"));
        if (c.targeted() != null) {
            headers.add("iterative, targeted");
        }
        Table.Builder t = Table.builder("Success rate by budget over " + images + " correctly classified test images (seed " + seed + ")" + made,
                headers.toArray(new String[0]));
        for (int b = 0; b < c.budgets().length; b++) {
            if (c.targeted() == null) {
                t.row(fmt(c.budgets()[b]), Math.round(c.budgets()[b] * 255), pct(c.fgsm()[b]), pct(c.iterative()[b]));
            } else {
                t.row(fmt(c.budgets()[b]), Math.round(c.budgets()[b] * 255), pct(c.fgsm()[b]), pct(c.iterative()[b]), pct(c.targeted()[b]));
            }
        }
        return t.build();
    }

    /** "0.01: FGSM 9.0%, iterative 10.4%; 0.02: ...": the closing note. */
    public static String closing(Curve c) {
        StringBuilder s = new StringBuilder();
        for (int b = 0; b < c.budgets().length; b++) {
            s.append(String.format(Locale.ROOT, "%s%s: FGSM %s, iterative %s", b == 0 ? "" : "; ", fmt(c.budgets()[b]), pct(c.fgsm()[b]),
                    pct(c.iterative()[b])));
        }
        return s.toString();
    }

    @Override
    public Result run(Path dir) throws IOException {
        FashionClassifier.Trained t = FashionClassifier.get();
        List<String> names = FashionClassifier.CLASSES;
        try (Ops ops = Backend.newDefaultOps()) {
            int[] rows = correctlyClassified(t.model(), ops, t.test(), SAMPLE, SEED);
            try (Dataset sample = t.test().select(rows)) {
                Curve c = measure(t.model(), ops, sample, BUDGETS, GradientSignAttack.DEFAULT_STEPS, TARGET);
                List<Path> figures = new ArrayList<>();
                Path chart = dir.resolve("adversarial-success.png");
                chart(chart, c, sample.size(), names);
                figures.add(chart);
                Path grid = dir.resolve("adversarial-examples.png");
                Files.deleteIfExists(grid); // a figure left from an earlier run must not pass for this one's
                Table examples = examples(t.model(), ops, sample, c, names, EXAMPLES, TARGETED_EXAMPLES, grid);
                if (Files.exists(grid)) {
                    figures.add(grid);
                }
                int claimAt = indexOf(CLAIM_BUDGET);
                boolean held = sample.size() == SAMPLE && c.iterative()[claimAt] >= CLAIM_RATE;
                String measured = String.format(Locale.ROOT, "On %d test images the net (%.1f%% test accuracy) labels correctly, the share"
                        + " whose label flips at each L-infinity budget is %s. The iterative attack flips %s within %s (the bar: %s);"
                        + " targeted at %s it makes %s of the others a %s. A budget of 0.02 is 5 grey levels of 255 and 0.1 is 26: on"
                        + " Fashion-MNIST's black background the larger changes show as faint speckle, yet no person would call the"
                        + " result another garment.", sample.size(), 100 * t.testAccuracy(), closing(c), pct(c.iterative()[claimAt]),
                        fmt(CLAIM_BUDGET), pct(CLAIM_RATE), names.get(TARGET), pct(c.targeted()[claimAt]), names.get(TARGET));
                return new Result(name(), title(), "A net that labels well does not see like we see: changing an image by an amount a"
                        + " person would not notice flips its confident label to another class, or to one we choose (\"make it a school"
                        + " bus\"). Here: at least " + pct(CLAIM_RATE) + " of correctly classified images flipped within an L-infinity budget of "
                        + fmt(CLAIM_BUDGET) + ".", measured, held, figures, List.of(rates(c, sample.size(), SEED, names), examples));
            }
        }
    }

    /**
     * The figure and table of examples (written to {@code png}): the first {@code untargeted}
     * confidently labelled images of distinct classes, each at the smallest budget that flips it;
     * then {@code targetedCount} attacked towards the curve's target class (when it has one).
     * Images are drawn as grey 28x28 or, for other square single-channel sizes, at their size. The
     * figure is written only when at least one image qualifies.
     */
    public static Table examples(Model model, Ops ops, Dataset sample, Curve c, List<String> names, int untargeted, int targetedCount, Path png)
            throws IOException {
        int size = Math.toIntExact(model.sampleShape().size());
        int side = (int) Math.round(Math.sqrt(size));
        float[] originals = sample.inputs().toArray();
        ImageGrid.Builder grid = ImageGrid.builder("Adversarial examples: original, perturbation, result")
                .note("Perturbation: red brighter, blue darker, full colour at the budget; each image at the smallest budget that fools the net")
                .columns("original", "perturbation (amplified)", "adversarial");
        Table.Builder table = Table.builder("Examples (images the net gave at least " + Math.round(100 * CONFIDENT) + "%): each at the"
                + " smallest budget that flipped it (iterative attack)"
                + (c.target() >= 0 ? ", then made a " + className(names, c.target()) : ""),
                "image", "true", "original label", "attack", "new label", "L-inf", "L2", "pixels changed (of " + size + ")");
        Set<Integer> used = new HashSet<>(); // one example per class
        int shown = 0;
        List<GradientSignAttack.Outcome> first = c.iterativeOutcomes().get(0);
        for (int i = 0; i < sample.size() && shown < untargeted; i++) {
            int label = sample.label(i);
            if (used.contains(label) || label == c.target() || first.get(i).originalConfidence() < CONFIDENT) {
                continue;
            }
            int b = 0;
            while (b < c.budgets().length - 1 && !c.iterativeOutcomes().get(b).get(i).success()) {
                b++;
            }
            used.add(label);
            shown++;
            GradientSignAttack.Outcome o = c.iterativeOutcomes().get(b).get(i);
            addRow(grid, table, names, side, "#" + (i + 1), slice(originals, i, size), slice(c.iterativeImages().get(b), i, size), o,
                    c.budgets()[b], "iterative eps " + fmt(c.budgets()[b]));
        }
        int made = 0;
        for (int i = 0; c.target() >= 0 && i < sample.size() && made < targetedCount; i++) {
            if (sample.label(i) == c.target() || first.get(i).originalConfidence() < CONFIDENT) {
                continue;
            }
            made++;
            try (Dataset one = sample.select(new int[] {i}); Tensor adv = Tensor.allocate(one.inputs().shape())) {
                GradientSignAttack.Outcome o = null;
                double eps = 0;
                for (double budget : c.budgets()) {
                    eps = budget;
                    o = iterative(budget, c.steps()).targeted(c.target()).run(model, ops, one.inputs(), one.labels(), adv).outcomes().get(0);
                    if (o.success()) {
                        break;
                    }
                }
                addRow(grid, table, names, side, "#" + (i + 1) + " -> " + className(names, c.target()), slice(originals, i, size), adv.toArray(),
                        o, eps, "targeted " + className(names, c.target()) + ", eps " + fmt(eps));
            }
        }
        if (shown + made > 0) {
            grid.write(png); // no figure when no image qualifies (none asked for, or none the net was sure of)
        }
        return table.build();
    }

    private static void addRow(ImageGrid.Builder grid, Table.Builder table, List<String> names, int side, String id, float[] original,
            float[] adversarial, GradientSignAttack.Outcome o, double eps, String attack) {
        float[] delta = new float[original.length];
        for (int j = 0; j < delta.length; j++) {
            delta[j] = adversarial[j] - original[j];
        }
        String before = String.format(Locale.ROOT, "%s %.2f", className(names, o.originalLabel()), o.originalConfidence());
        String change = String.format(Locale.ROOT, "%s\nL-inf %.3f, L2 %.2f, %d px", attack, o.linf(), o.l2(), o.pixelsChanged());
        String after = String.format(Locale.ROOT, "%s %.2f%s", className(names, o.newLabel()), o.newConfidence(),
                o.success() ? "" : " (not flipped)");
        grid.row(id, ImageGrid.grey(original, side, side, before), ImageGrid.values(delta, side, side, ImageGrid.diverging(eps), change),
                ImageGrid.grey(adversarial, side, side, after));
        table.row(id, className(names, o.trueLabel()), String.format(Locale.ROOT, "%s %.3f", className(names, o.originalLabel()),
                o.originalConfidence()), attack, String.format(Locale.ROOT, "%s %.3f", className(names, o.newLabel()), o.newConfidence()),
                String.format(Locale.ROOT, "%.3f", o.linf()), String.format(Locale.ROOT, "%.2f", o.l2()), o.pixelsChanged());
    }

    /** The class's name, or "class k" when the model has none. */
    public static String className(List<String> names, int k) {
        return k >= 0 && k < names.size() ? names.get(k) : "class " + k;
    }

    private static float[] slice(float[] all, int i, int size) {
        float[] out = new float[size];
        System.arraycopy(all, i * size, out, 0, size);
        return out;
    }

    static int indexOf(double budget) {
        for (int b = 0; b < BUDGETS.length; b++) {
            if (BUDGETS[b] == budget) {
                return b;
            }
        }
        throw new IllegalArgumentException("budget " + budget + " is not measured");
    }

    private static double[] percent(double[] rates) {
        double[] out = new double[rates.length];
        for (int i = 0; i < rates.length; i++) {
            out[i] = 100 * rates[i];
        }
        return out;
    }

    static String pct(double rate) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * rate);
    }

    static String fmt(double budget) {
        return String.format(Locale.ROOT, "%.2f", budget);
    }
}
