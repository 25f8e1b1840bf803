package dev.deepnet.lab.cli;

import dev.deepnet.data.Dataset;
import dev.deepnet.data.FashionMnist;
import dev.deepnet.data.ImageFolder;
import dev.deepnet.infer.Classifier;
import dev.deepnet.lab.report.OcclusionFigures;
import dev.deepnet.lab.report.OcclusionFigures.Labelled;
import dev.deepnet.occlusion.BandOcclusion;
import dev.deepnet.occlusion.LaplacianPyramid;
import dev.deepnet.occlusion.OcclusionSensitivity;
import dev.deepnet.occlusion.SensitivityMap;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code deepnet occlude --model FILE}: the lecture's occlusion experiments on any trained
 * classifier. {@code --mode bands} knocks rectangles out of an image's frequency bands for as long
 * as the model keeps its label; {@code --mode sensitivity} slides a grey patch and maps how far
 * the true class's probability drops.
 */
@Command(name = "occlude", mixinStandardHelpOptions = true,
        description = "Knock parts of test images out (frequency bands, or a sliding grey patch) and see what the model still labels.")
public final class OccludeCommand implements Callable<Integer> {

    enum Mode { bands, sensitivity }

    @Option(names = "--model", required = true, description = "a classifier saved by deepnet train (.safetensors)")
    Path modelFile;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist (its test set), or a folder with one"
            + " sub-folder of images per class, for RGB models (default: ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--images", defaultValue = "8", description = "how many images, picked at random with --seed (default: ${DEFAULT-VALUE})")
    int images;

    @Option(names = "--mode", defaultValue = "bands", description = "bands or sensitivity (default: ${DEFAULT-VALUE})")
    Mode mode;

    @Option(names = "--seed", defaultValue = "1", description = "which images, and the order rectangles are tried (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--levels", defaultValue = "4", description = "bands: frequency bands, finest first (default: ${DEFAULT-VALUE})")
    int levels;

    @Option(names = "--candidates", defaultValue = "32", description = "bands: rectangles tried per round, one batch (default: ${DEFAULT-VALUE})")
    int candidates;

    @Option(names = "--rounds", defaultValue = "20", description = "bands: at most this many rounds per image (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--min-probability", defaultValue = "0.5",
            description = "bands: the label counts as kept while at least this probable (default: ${DEFAULT-VALUE})")
    double minProbability;

    @Option(names = "--patch", defaultValue = "6", description = "sensitivity: the patch's side in pixels (default: ${DEFAULT-VALUE})")
    int patch;

    @Option(names = "--stride", defaultValue = "2", description = "sensitivity: pixels between positions (default: ${DEFAULT-VALUE})")
    int stride;

    @Option(names = "--fill", description = "sensitivity: the patch's value (default: grey, 0.5 for fashion-mnist, 0 for a"
            + " normalised image folder)")
    Float fill;

    @Option(names = "--out", defaultValue = "out/occlude", description = "where the figure goes (default: ${DEFAULT-VALUE})")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The images to occlude, their class names, and the value that reads as grey; closing frees the images. */
    private record Loaded(Dataset test, List<String> classes, float grey) implements AutoCloseable {
        @Override
        public void close() {
            test.close();
        }
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter o = spec.commandLine().getOut();
        Options.atLeast("--images", images, 1);
        Options.atLeast("--levels", levels, 1);
        Options.atLeast("--candidates", candidates, 1);
        Options.atLeast("--rounds", rounds, 1);
        Options.within("--min-probability", minProbability, Options.Interval.closedOpen(0, 1));
        Options.atLeast("--patch", patch, 1);
        Options.atLeast("--stride", stride, 1);
        if (fill != null) {
            Options.finite("--fill", fill);
        }
        try (SavedClassifier saved = SavedClassifier.load(modelFile)) {
            Shape sample = saved.model().sampleShape();
            checkAgainstTheImages(sample);
            Options.outputFolder("--out", out);
            try (Loaded loaded = load(sample); Ops ops = Backend.newDefaultOps();
                 Classifier classifier = new Classifier(saved.model(), ops, Math.max(candidates, 16))) {
                Dataset test = loaded.test();
                if (!sample.equals(test.inputs().shape().sample())) {
                    throw bad("--model " + modelFile + " takes images " + sample + " but " + data + "'s are "
                            + test.inputs().shape().sample());
                }
                if (classifier.classes() != loaded.classes().size()) {
                    throw bad("--model " + modelFile + " has " + classifier.classes() + " classes but " + data + " has "
                            + loaded.classes().size());
                }
                List<String> names = saved.classes().size() == classifier.classes() ? saved.classes() : loaded.classes();
                int[] picked = pick(test.size(), Math.min(images, test.size()), seed);
                o.printf(Locale.ROOT, "occlude: %s on %d %s images, mode %s, backend %s%n", modelFile, picked.length, data, mode,
                        ops.name());
                Path figure = mode == Mode.bands ? bands(o, classifier, test, picked, names)
                        : sensitivity(o, classifier, test, picked, names, fill != null ? fill : loaded.grey());
                o.println("figure: " + figure);
            }
        }
        return 0;
    }

    /** The options that depend on the images' size, checked before the work starts. */
    private void checkAgainstTheImages(Shape sample) {
        if (sample.rank() != 3) {
            throw bad("--model " + modelFile + " takes samples " + sample + ", not images (channels, height, width)");
        }
        if (mode == Mode.bands && levels > LaplacianPyramid.maxLevels(sample)) {
            throw bad("--levels " + levels + " is more bands than images of " + sample + " have: give at most "
                    + LaplacianPyramid.maxLevels(sample));
        }
        int side = Math.min(sample.intDim(1), sample.intDim(2));
        if (mode == Mode.sensitivity && patch > side) {
            throw bad("--patch " + patch + " does not fit in images of " + sample + ": give at most " + side);
        }
    }

    private Path bands(PrintWriter o, Classifier classifier, Dataset test, int[] picked, List<String> names) throws IOException {
        BandOcclusion search = BandOcclusion.builder(classifier::probabilities, classifier.sampleShape()).levels(levels).candidates(candidates)
                .maxRounds(rounds).minProbability(minProbability).seed(seed).build();
        List<Labelled<BandOcclusion.Result>> results = new ArrayList<>();
        double[] mean = new double[levels];
        long t0 = System.nanoTime();
        for (int index : picked) {
            BandOcclusion.Result r = search.search(image(test, index));
            String truth = names.get(test.label(index));
            StringBuilder removed = new StringBuilder();
            for (BandOcclusion.Band b : r.bands()) {
                removed.append(b.level() == 0 ? "" : ", ").append(bandName(b.level())).append(' ')
                        .append(String.format(Locale.ROOT, "%.0f%%", 100 * b.removedEnergy()));
                mean[b.level()] += b.removedEnergy() / picked.length;
            }
            o.printf(Locale.ROOT, "#%d (%s): %s %.2f -> kept at %.2f; energy removed %s; pixels changed %.0f%%; %d rounds, %d forward"
                    + " passes%n", index, truth, names.get(r.label()), r.originalProbability(), r.finalProbability(), removed,
                    100 * r.relativeChange(), r.rounds(), r.evaluations());
            o.flush();
            results.add(new Labelled<>(truth + "\n#" + index, r));
        }
        StringBuilder summary = new StringBuilder();
        for (int k = 0; k < levels; k++) {
            summary.append(k == 0 ? "" : ", ").append(bandName(k)).append(' ').append(String.format(Locale.ROOT, "%.0f%%", 100 * mean[k]));
        }
        o.printf(Locale.ROOT, "mean share of each band's energy removed with the label kept: %s (%.1f s)%n", summary,
                (System.nanoTime() - t0) / 1e9);
        return OcclusionFigures.bands(out.resolve("bands.png"), "Knocked out band by band, label kept (" + modelFile.getFileName() + ")",
                results);
    }

    private String bandName(int k) {
        return k == levels - 1 ? "low-pass" : "band " + k;
    }

    private Path sensitivity(PrintWriter o, Classifier classifier, Dataset test, int[] picked, List<String> names, float grey)
            throws IOException {
        OcclusionSensitivity sensitivity = new OcclusionSensitivity(patch, stride, grey);
        Shape shape = classifier.sampleShape();
        List<Labelled<SensitivityMap>> maps = new ArrayList<>();
        List<float[]> originals = new ArrayList<>();
        for (int index : picked) {
            float[] x = image(test, index);
            int truth = test.label(index);
            SensitivityMap m = sensitivity.map(classifier::probabilities, x, shape, truth);
            int worst = 0;
            for (int i = 1; i < m.drops().length; i++) {
                worst = m.drops()[i] > m.drops()[worst] ? i : worst;
            }
            o.printf(Locale.ROOT, "#%d (%s): p %.2f; largest drop %.2f with the patch at (%d, %d)%n", index, names.get(truth),
                    m.baseline(), m.maxDrop(), m.tops()[worst / m.cols()], m.lefts()[worst % m.cols()]);
            maps.add(new Labelled<>(names.get(truth) + "\n#" + index, m));
            originals.add(x);
        }
        return OcclusionFigures.sensitivity(out.resolve("sensitivity.png"), "Occlusion sensitivity: a " + patch + "x" + patch
                + " patch slid " + stride + " pixels at a time (" + modelFile.getFileName() + ")", maps, originals, shape.intDim(0), grey);
    }

    private Loaded load(Shape sample) throws IOException {
        if (data.equals("fashion-mnist")) {
            if (!FashionMnist.installed()) {
                throw bad(FashionMnist.notInstalledMessage());
            }
            return new Loaded(FashionMnist.test(), FashionMnist.CLASSES, 0.5f);
        }
        Path dir = Path.of(data);
        if (data.isBlank() || !Files.isDirectory(dir)) {
            throw bad("--data must be fashion-mnist or a folder; " + dir + " is neither");
        }
        if (sample.rank() != 3 || sample.dim(0) != 3 || sample.dim(1) != sample.dim(2)) {
            throw bad("--data " + dir + ": an image folder is read as square RGB images, but the model takes " + sample);
        }
        int crop = sample.intDim(1);
        ImageFolder folder;
        try {
            folder = ImageFolder.load(dir, crop * 256 / 227, crop);
        } catch (IOException e) { // no class folders, an unreadable image, ...: the message names the file
            throw bad("--data " + e.getMessage());
        }
        // Normalised per channel: 0 is the data set's mean, a neutral grey.
        return new Loaded(folder.dataset(), folder.classes(), 0f);
    }

    /** {@code count} distinct indices below {@code n}, in a seeded random order. */
    static int[] pick(int n, int count, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {
            int j = i + random.nextInt(n - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return java.util.Arrays.copyOf(order, count);
    }

    private static float[] image(Dataset test, int index) {
        return test.inputs().slice(index, index + 1).toArray();
    }

    private static UsageException bad(String message) {
        return new UsageException(message);
    }
}
