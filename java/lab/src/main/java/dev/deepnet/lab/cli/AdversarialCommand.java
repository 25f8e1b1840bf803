package dev.deepnet.lab.cli;

import dev.deepnet.data.Dataset;
import dev.deepnet.data.FashionMnist;
import dev.deepnet.lab.experiments.AdversarialExamples;
import dev.deepnet.lab.experiments.Experiment;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code deepnet adversarial --model FILE}: how small a change flips a trained classifier's
 * labels. Over a seeded sample of test images it labels correctly, the share flipped at each
 * L-infinity budget by FGSM and by the iterative attack (and, with --target, made into that
 * class); a chart, and examples drawn with their perturbations.
 */
@Command(name = "adversarial", mixinStandardHelpOptions = true,
        description = "Adversarial examples on a trained classifier: the share of correctly labelled test images whose label flips"
                + " within each L-infinity budget (FGSM and the projected iterative attack), a chart and examples.")
public final class AdversarialCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "a classifier saved by deepnet train (.safetensors), pixels in [0, 1]")
    Path modelFile;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "the test images: fashion-mnist (default: ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--eps", split = ",", defaultValue = "0.01,0.02,0.05,0.1,0.2",
            description = "L-infinity budgets on [0, 1] pixels, comma-separated (default: ${DEFAULT-VALUE})")
    double[] budgets;

    @Option(names = "--steps", defaultValue = "10",
            description = "steps of the iterative attack, each 2.5 eps / steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--target", description = "also attack towards this class (a name such as Bag, or an index)")
    String target;

    @Option(names = "--images", defaultValue = "500", description = "correctly labelled test images to attack (default: ${DEFAULT-VALUE})")
    int images;

    @Option(names = "--examples", defaultValue = "6", description = "images to draw and list (default: ${DEFAULT-VALUE})")
    int examples;

    @Option(names = "--seed", defaultValue = "7", description = "which test images are drawn (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", defaultValue = "out/adversarial", description = "where the figures go (default: ${DEFAULT-VALUE})")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        CommandLine cli = spec.commandLine();
        PrintWriter o = cli.getOut();
        if (budgets.length == 0 || Arrays.stream(budgets).anyMatch(b -> !(b >= 0 && b <= 1))) {
            throw new UsageException("--eps: every budget must be in [0, 1] (pixels are in [0, 1]), got " + Arrays.toString(budgets));
        }
        Options.atLeast("--steps", steps, 1);
        Options.atLeast("--images", images, 1);
        Options.atLeast("--examples", examples, 0);
        Options.oneOf("--data", data, "fashion-mnist");
        try (SavedClassifier c = SavedClassifier.load(modelFile)) {
            checkFashionMnist(c);
            int targetClass = target == null ? -1 : c.classOf(target, "--target");
            Options.outputFolder("--out", out);
            try (Dataset test = fashionMnistTest(); Ops ops = Backend.newDefaultOps()) {
                int[] rows = AdversarialExamples.correctlyClassified(c.model(), ops, test, images, seed);
                if (rows.length == 0) {
                    throw new UsageException("--model " + modelFile + " labels none of the test images correctly: nothing to attack");
                }
                List<String> names = c.classes();
                try (Dataset sample = test.select(rows)) {
                    o.printf(Locale.ROOT, "%s: %d correctly labelled Fashion-MNIST test images (seed %d)%s%n", modelFile, sample.size(), seed,
                            rows.length < images ? " (all it labels correctly)" : "");
                    o.flush();
                    AdversarialExamples.Curve curve = AdversarialExamples.measure(c.model(), ops, sample, budgets, steps, targetClass);
                    String targeted = targetClass < 0 ? "" : "targeted (" + c.name(targetClass) + ")";
                    o.println(String.format("%-8s %-10s %-10s%s", "eps", "FGSM", "iterative", targeted).stripTrailing());
                    for (int b = 0; b < budgets.length; b++) {
                        o.println(String.format(Locale.ROOT, "%-8.3f %-10s %-10s%s", budgets[b], percent(curve.fgsm()[b]),
                                percent(curve.iterative()[b]), targetClass < 0 ? "" : percent(curve.targeted()[b])).stripTrailing());
                    }
                    Path chart = out.resolve("adversarial-success.png");
                    AdversarialExamples.chart(chart, curve, sample.size(), names);
                    Path grid = out.resolve("adversarial-examples.png");
                    Files.deleteIfExists(grid); // a figure left from an earlier run must not pass for this one's
                    Experiment.Table table = AdversarialExamples.examples(c.model(), ops, sample, curve, names, examples,
                            targetClass < 0 || examples == 0 ? 0 : Math.max(1, examples / 2), grid);
                    o.println("examples (" + String.join(", ", table.headers()) + "):");
                    for (List<String> row : table.rows()) {
                        o.println("  " + String.join("  ", row));
                    }
                    o.println("figures: " + chart + (Files.exists(grid) ? ", " + grid : " (no example qualified for a picture)"));
                }
            }
        }
        return 0;
    }

    private static String percent(double rate) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * rate);
    }

    /** The model must take Fashion-MNIST's 28x28 grey images and give its 10 classes. */
    void checkFashionMnist(SavedClassifier c) {
        Shape sample = c.model().sampleShape();
        if (!sample.equals(Shape.of(1, 28, 28))) {
            throw new UsageException("--model " + modelFile + " takes samples " + sample + " but Fashion-MNIST images are (1, 28, 28)");
        }
        if (c.classCount() != 10) {
            throw new UsageException("--model " + modelFile + " has " + c.classCount() + " classes but Fashion-MNIST has 10");
        }
    }

    static Dataset fashionMnistTest() throws IOException {
        if (!FashionMnist.installed()) {
            throw new UsageException(FashionMnist.notInstalledMessage());
        }
        return FashionMnist.test();
    }
}
