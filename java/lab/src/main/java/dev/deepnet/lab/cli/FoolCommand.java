package dev.deepnet.lab.cli;

import dev.deepnet.adversarial.FoolingImageGenerator;
import dev.deepnet.lab.report.ImageGrid;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code deepnet fool --model FILE}: fooling images for a trained classifier — gradient ascent on a
 * class's log-probability from noise or a blank image until the net is sure — one per class, drawn
 * in a grid with the confidences.
 */
@Command(name = "fool", mixinStandardHelpOptions = true,
        description = "Fooling images: from noise or a blank image, gradient ascent on each class's probability until the"
                + " classifier is sure (default 99%%), drawn in a grid.")
public final class FoolCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "a classifier saved by deepnet train (.safetensors), pixels in [0, 1]")
    Path modelFile;

    @Option(names = "--class", split = ",", description = "classes to fool it with, by name or index, comma-separated (default: all)")
    List<String> classNames = new ArrayList<>();

    @Option(names = "--start", defaultValue = "noise", description = "noise or blank (default: ${DEFAULT-VALUE})")
    String start;

    @Option(names = "--blank", defaultValue = "0", description = "the grey level of a blank start, in [0, 1] (default: ${DEFAULT-VALUE})")
    float blank;

    @Option(names = "--confidence", defaultValue = "0.99", description = "the probability to reach (default: ${DEFAULT-VALUE})")
    double confidence;

    @Option(names = "--max-steps", defaultValue = "500", description = "at most this many steps per image (default: ${DEFAULT-VALUE})")
    int maxSteps;

    @Option(names = "--step-size", defaultValue = "0.01", description = "how far a pixel moves per step (default: ${DEFAULT-VALUE})")
    double stepSize;

    @Option(names = "--seed", defaultValue = "3", description = "the noise (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", defaultValue = "out/fool", description = "where the figure goes (default: ${DEFAULT-VALUE})")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        CommandLine cli = spec.commandLine();
        PrintWriter o = cli.getOut();
        Options.oneOf("--start", start, "noise", "blank");
        boolean noise = start.equals("noise");
        if (!noise) {
            Options.within("--blank", blank, Options.Interval.closed(0, 1));
        }
        Options.within("--confidence", confidence, Options.Interval.open(0, 1));
        Options.atLeast("--max-steps", maxSteps, 1);
        Options.positive("--step-size", stepSize);
        FoolingImageGenerator generator = (noise ? FoolingImageGenerator.fromNoise(seed) : FoolingImageGenerator.fromBlank(blank))
                .confidence(confidence).maxSteps(maxSteps).stepSize(stepSize);
        try (SavedClassifier c = SavedClassifier.load(modelFile)) {
            int[] classes = classNames.isEmpty() ? allClasses(c.classCount())
                    : classNames.stream().mapToInt(n -> c.classOf(n, "--class")).toArray();
            Options.outputFolder("--out", out);
            Shape sample = c.model().sampleShape();
            List<FoolingImageGenerator.Fooling> fooled;
            float[] pixels;
            try (Ops ops = Backend.newDefaultOps(); Tensor images = Tensor.allocate(sample.batched(classes.length))) {
                fooled = generator.generate(c.model(), ops, classes, images);
                pixels = images.toArray();
            }
            int reached = 0;
            List<ImageGrid.Cell> row = new ArrayList<>();
            int size = Math.toIntExact(sample.size());
            for (int i = 0; i < classes.length; i++) {
                FoolingImageGenerator.Fooling f = fooled.get(i);
                reached += f.reached() ? 1 : 0;
                o.printf(Locale.ROOT, "%-14s %.4f after %d steps%s%n", c.name(f.targetClass()), f.confidence(), f.steps(),
                        f.reached() ? "" : " (not reached; the net says " + c.name(f.label()) + ")");
                ImageGrid.Cell cell = cell(sample, Arrays.copyOfRange(pixels, i * size, (i + 1) * size),
                        String.format(Locale.ROOT, "%s\n%.3f, %d steps", c.name(f.targetClass()), f.confidence(), f.steps()));
                if (cell != null) {
                    row.add(cell);
                }
            }
            if (row.isEmpty()) {
                o.println("no figure: the model's samples " + sample + " are not images (C, H, W) with 1 or 3 channels");
            } else {
                Path png = out.resolve("fooling-images.png");
                int side = Math.max(sample.rank() == 3 ? sample.intDim(1) : 1, sample.rank() == 3 ? sample.intDim(2) : 1);
                ImageGrid.builder("Fooling images from " + (noise ? "noise (seed " + seed + ")" : "a blank image (" + blank + ")")
                        + ": the net's confidence in each class").scale(Math.max(1, 112 / side)).row("", row).write(png);
                o.println("figure: " + png);
            }
            o.printf(Locale.ROOT, "%d of %d reached %.4f%n", reached, classes.length, confidence);
            return reached == classes.length ? 0 : 1;
        }
    }

    private static int[] allClasses(int n) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        return all;
    }

    /** A grey (1 channel) or colour (3 channels) image of the sample shape, or null when it is not an image. */
    private static ImageGrid.Cell cell(Shape sample, float[] pixels, String caption) {
        if (sample.rank() != 3) {
            return null;
        }
        int h = sample.intDim(1);
        int w = sample.intDim(2);
        return switch (sample.intDim(0)) {
            case 1 -> ImageGrid.grey(pixels, w, h, caption);
            case 3 -> ImageGrid.rgb(pixels, w, h, 0, 1, caption);
            default -> null;
        };
    }
}
