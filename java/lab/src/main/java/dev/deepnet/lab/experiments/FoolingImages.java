package dev.deepnet.lab.experiments;

import dev.deepnet.adversarial.FoolingImageGenerator;
import dev.deepnet.data.Dataset;
import dev.deepnet.lab.report.ImageGrid;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Fooling images on the lab's Fashion-MNIST convnet: gradient ascent on one class's
 * log-probability, from noise and from a blank (black) image, until the net is at least 99 % sure
 * — one image per class, none of which a person would call that class. Whether a person would is
 * judged by eye in the figure; the table adds a pixel-space stand-in: the nearest real test image
 * (its class and L2 distance), against how far real images of a class are from their own nearest
 * neighbour.
 */
public final class FoolingImages implements Experiment {

    static final double CONFIDENCE = 0.99;
    static final long SEED = 3;
    static final int MAX_STEPS = 500;
    /** Real test images per class the distances are measured against. */
    static final int REFERENCE = 200;

    @Override
    public String name() {
        return "fooling";
    }

    @Override
    public String title() {
        return "Fooling images: what the net is 99% sure is a sandal";
    }

    /** The fooling images of one start (noise or blank), one per class in class order, and what became of each. */
    record Generated(String start, float[] images, List<FoolingImageGenerator.Fooling> results) {}

    /** One image per class from {@code generator}. */
    static Generated generate(String start, FoolingImageGenerator generator, Model model, Ops ops) {
        int classes = FashionClassifier.CLASSES.size();
        int[] every = new int[classes];
        for (int c = 0; c < classes; c++) {
            every[c] = c;
        }
        try (Tensor images = Tensor.allocate(Shape.of(classes, 1, 28, 28))) {
            List<FoolingImageGenerator.Fooling> r = generator.confidence(CONFIDENCE).maxSteps(MAX_STEPS).generate(model, ops, every, images);
            return new Generated(start, images.toArray(), r);
        }
    }

    /** The two starts the lecture's pictures suggest: noise, and a blank (black, Fashion-MNIST's background) image. */
    static List<Generated> generateAll(Model model, Ops ops) {
        return List.of(generate("noise", FoolingImageGenerator.fromNoise(SEED), model, ops),
                generate("blank", FoolingImageGenerator.fromBlank(0f), model, ops));
    }

    /** Real test images by class: up to {@link #REFERENCE} per class, in test-set order. */
    static float[][][] realByClass(Dataset test) {
        int classes = FashionClassifier.CLASSES.size();
        int size = 28 * 28;
        float[] all = test.inputs().toArray();
        List<List<float[]>> by = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            by.add(new ArrayList<>());
        }
        for (int i = 0; i < test.size(); i++) {
            List<float[]> l = by.get(test.label(i));
            if (l.size() < REFERENCE) {
                l.add(Arrays.copyOfRange(all, i * size, (i + 1) * size));
            }
        }
        float[][][] out = new float[classes][][];
        for (int c = 0; c < classes; c++) {
            out[c] = by.get(c).toArray(new float[0][]);
        }
        return out;
    }

    static double distance(float[] a, int offset, float[] b) {
        double s = 0;
        for (int j = 0; j < b.length; j++) {
            double d = a[offset + j] - b[j];
            s += d * d;
        }
        return Math.sqrt(s);
    }

    /** The index in {@code real} of the image nearest (L2) to the one at {@code offset} in {@code image}, skipping {@code skip}. */
    static int nearest(float[] image, int offset, float[][] real, int skip) {
        int best = -1;
        double bestDistance = Double.MAX_VALUE;
        for (int k = 0; k < real.length; k++) {
            double d = k == skip ? Double.MAX_VALUE : distance(image, offset, real[k]);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best;
    }

    /** The median over real images of a class of the distance to their nearest other real image of the class. */
    static double medianNearestNeighbour(float[][] real) {
        double[] d = new double[real.length];
        for (int k = 0; k < real.length; k++) {
            d[k] = distance(real[k], 0, real[nearest(real[k], 0, real, k)]);
        }
        Arrays.sort(d);
        return d[d.length / 2];
    }

    /** The nearest real image over every class: its class and distance. */
    record Match(int label, double distance) {}

    static Match nearestOfAll(float[] image, int offset, float[][][] real) {
        Match best = null;
        for (int c = 0; c < real.length; c++) {
            int k = nearest(image, offset, real[c], -1);
            double d = distance(image, offset, real[c][k]);
            if (best == null || d < best.distance()) {
                best = new Match(c, d);
            }
        }
        return best;
    }

    @Override
    public Result run(Path dir) throws IOException {
        FashionClassifier.Trained t = FashionClassifier.get();
        List<String> names = FashionClassifier.CLASSES;
        int classes = names.size();
        int size = 28 * 28;
        try (Ops ops = Backend.newDefaultOps()) {
            List<Generated> all = generateAll(t.model(), ops);
            float[][][] real = realByClass(t.test());
            double[] typical = new double[classes];
            for (int c = 0; c < classes; c++) {
                typical[c] = medianNearestNeighbour(real[c]);
            }
            Table.Builder table = Table.builder("Each fooling image: the net's confidence in its class and the steps of gradient ascent;"
                    + " then a pixel-space stand-in for a person: the nearest of " + REFERENCE + " real test images per class (its class,"
                    + " L2 distance), and for scale the median distance of a real image of the class to its nearest neighbour",
                    "class", "start", "confidence", "steps", "net's label", "nearest real image", "L2 to it", "real to real (median L2)");
            ImageGrid.Builder grid = ImageGrid.builder("Fooling images: the net is at least " + Math.round(100 * CONFIDENCE) + "% sure of each")
                    .note("Top row: a real test image of each class. Then gradient ascent on the class's log-probability,"
                            + " from noise and from black.")
                    .columns(names.toArray(new String[0]));
            List<ImageGrid.Cell> realRow = new ArrayList<>();
            for (int c = 0; c < classes; c++) {
                realRow.add(ImageGrid.grey(real[c][0], 28, 28, names.get(c)));
            }
            grid.row("real", realRow);
            double lowest = 1;
            int reached = 0;
            int otherClass = 0;
            double nearestMin = Double.MAX_VALUE;
            double nearestMax = 0;
            for (Generated g : all) {
                List<ImageGrid.Cell> row = new ArrayList<>();
                for (int c = 0; c < classes; c++) {
                    FoolingImageGenerator.Fooling f = g.results().get(c);
                    Match m = nearestOfAll(g.images(), c * size, real);
                    lowest = Math.min(lowest, f.confidence());
                    reached += f.reached() ? 1 : 0;
                    otherClass += m.label() != c ? 1 : 0;
                    nearestMin = Math.min(nearestMin, m.distance());
                    nearestMax = Math.max(nearestMax, m.distance());
                    row.add(ImageGrid.grey(Arrays.copyOfRange(g.images(), c * size, (c + 1) * size), 28, 28,
                            String.format(Locale.ROOT, "%.3f\n%d steps", f.confidence(), f.steps())));
                    table.row(names.get(c), g.start(), String.format(Locale.ROOT, "%.4f", f.confidence()), f.steps(), names.get(f.label()),
                            names.get(m.label()), String.format(Locale.ROOT, "%.2f", m.distance()),
                            String.format(Locale.ROOT, "%.2f", typical[c]));
                }
                grid.row("from " + g.start(), row);
            }
            Path png = dir.resolve("fooling-images.png");
            grid.write(png);
            int total = classes * all.size();
            String measured = String.format(Locale.ROOT, "%d of %d fooling images (one per class, from noise and from black) reached"
                    + " %.0f%% confidence (lowest %.4f) within %d steps of 0.01 per pixel. To the eye they are noise and dark smudges;"
                    + " in pixel space, %d of %d have a nearest real test image of another class, at L2 %.1f to %.1f (real images of a"
                    + " class are typically %.1f to %.1f from their nearest neighbour).", reached, total, 100 * CONFIDENCE, lowest, MAX_STEPS,
                    otherClass, total, nearestMin, nearestMax, Arrays.stream(typical).min().orElse(0), Arrays.stream(typical).max().orElse(0));
            return new Result(name(), title(), "Starting from noise or a blank image, gradient ascent on one class's probability makes"
                    + " images the net labels with at least 99% confidence that a person would not call that class (the lecture's"
                    + " \"things it thinks are a school bus\").", measured, reached == total && lowest >= CONFIDENCE, List.of(png),
                    List.of(table.build()));
        }
    }
}
