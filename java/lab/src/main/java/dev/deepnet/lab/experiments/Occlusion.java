package dev.deepnet.lab.experiments;

import dev.deepnet.data.Dataset;
import dev.deepnet.infer.Classifier;
import dev.deepnet.lab.report.OcclusionFigures;
import dev.deepnet.lab.report.OcclusionFigures.Labelled;
import dev.deepnet.occlusion.BandOcclusion;
import dev.deepnet.occlusion.ImageClassifier;
import dev.deepnet.occlusion.OcclusionSensitivity;
import dev.deepnet.occlusion.SensitivityMap;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The lecture's last demonstration that a net which labels well does not see like we see: knock
 * parts of an image out, band by band, and the label stays. Test images the shared
 * {@link FashionClassifier} labels correctly, a few per class (seeded), each searched with
 * {@link BandOcclusion}; then the plain-pixel variant, {@link OcclusionSensitivity}'s map of where
 * a grey patch hurts.
 */
public final class Occlusion implements Experiment {

    static final int PER_CLASS = 3;
    static final long SEED = 7;
    static final int LEVELS = 4; // 28, 14, 7 and the 4x4 low-pass band
    static final int CANDIDATES = 32;
    static final int MAX_ROUNDS = 20;
    /** The label is kept only while the net still gives it at least even odds, not a bare plurality of a blur. */
    static final double MIN_PROBABILITY = 0.5;
    /**
     * Images are searched only when the net is sure of them to begin with, so every image starts
     * with the same room above {@link #MIN_PROBABILITY} and a class does not look hard to
     * mutilate merely because the net doubted it already.
     */
    static final double CONFIDENT = 0.9;
    static final int PATCH = 6;
    static final int STRIDE = 2;
    static final float GREY = 0.5f;
    static final Shape IMAGE = Shape.of(1, 28, 28);

    /** "Much of the image": on average at least half of every band's energy goes, the label kept. */
    static final double MUCH = 0.5;
    /**
     * "Depends on the object": the least mutilatable class must keep at least twice the share of
     * its bands that the most mutilatable one keeps. Compared on what has to stay, not on what
     * goes: when nearly everything goes, 90% and 99% removed differ little, yet one image needs
     * ten times as much of itself left to be recognised as the other.
     */
    static final double SPREAD = 2.0;
    /** A map is localised when its worst patch costs more than 0.1 and 5 times what the median patch costs. */
    static final double LOCALISED = 5.0;

    /** One searched test image. */
    record Item(int index, int trueClass, BandOcclusion.Result result) {}

    /** One class's survival: the mean over its images of the mean share of band energy removed, and of the pixel change. */
    record ClassSurvival(int cls, int images, double meanRemoved, double[] perBand, double meanChange) {
        /** The share of its bands' energy that had to stay for the label to stay. */
        double kept() {
            return 1 - meanRemoved;
        }
    }

    /** Everything measured: the searches, their means per band, classes ranked, sensitivity maps. */
    record Outcome(List<Item> items, double[] meanEnergy, double[] meanArea, List<ClassSurvival> ranking, List<Item> mapped,
            List<SensitivityMap> maps, double bandSeconds, double mapSeconds, double testAccuracy) {}

    @Override
    public String name() {
        return "occlusion";
    }

    @Override
    public String title() {
        return "Knocking out frequency bands, and where a grey patch hurts";
    }

    /** Searches {@link #PER_CLASS} correctly labelled test images per class and maps one per class. */
    static Outcome measure() {
        FashionClassifier.Trained trained = FashionClassifier.get();
        try (Ops ops = Backend.newDefaultOps(); Classifier classifier = new Classifier(trained.model(), ops, CANDIDATES)) {
            int[] picked = pick(classifier::probabilities, trained.test(), PER_CLASS, CONFIDENT, SEED);
            BandOcclusion search = BandOcclusion.builder(classifier::probabilities, IMAGE).levels(LEVELS).candidates(CANDIDATES).maxRounds(MAX_ROUNDS)
                    .minProbability(MIN_PROBABILITY).seed(SEED).build();
            long t0 = System.nanoTime();
            List<Item> items = new ArrayList<>();
            for (int index : picked) {
                items.add(new Item(index, trained.test().label(index), search.search(image(trained.test(), index))));
            }
            double bandSeconds = (System.nanoTime() - t0) / 1e9;
            double[] energy = new double[LEVELS];
            double[] area = new double[LEVELS];
            for (Item it : items) {
                for (int k = 0; k < LEVELS; k++) {
                    energy[k] += it.result().removedEnergy()[k] / items.size();
                    area[k] += it.result().removedArea()[k] / items.size();
                }
            }
            long t1 = System.nanoTime();
            OcclusionSensitivity sensitivity = new OcclusionSensitivity(PATCH, STRIDE, GREY);
            List<Item> mapped = new ArrayList<>();
            List<SensitivityMap> maps = new ArrayList<>();
            for (Item it : items) {
                if (mapped.stream().noneMatch(m -> m.trueClass() == it.trueClass())) {
                    mapped.add(it);
                    maps.add(sensitivity.map(classifier::probabilities, it.result().original(), IMAGE, it.trueClass()));
                }
            }
            double mapSeconds = (System.nanoTime() - t1) / 1e9;
            return new Outcome(List.copyOf(items), energy, area, rank(items), mapped, maps, bandSeconds, mapSeconds, trained.testAccuracy());
        }
    }

    /**
     * {@code perClass} test images of each class that the classifier labels correctly with at
     * least {@code confidence}, taken in a seeded order (not the file's first ones), grouped by class.
     */
    static int[] pick(ImageClassifier classifier, Dataset test, int perClass, double confidence, long seed) {
        int n = test.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int classes = FashionClassifier.CLASSES.size();
        List<List<Integer>> chosen = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            chosen.add(new ArrayList<>());
        }
        int batch = 256;
        int full = 0;
        for (int from = 0; from < n && full < classes; from += batch) {
            int count = Math.min(batch, n - from);
            float[] images = new float[count * 784];
            for (int i = 0; i < count; i++) {
                System.arraycopy(image(test, order[from + i]), 0, images, i * 784, 784);
            }
            float[] p = classifier.probabilities(images, count);
            int[] labels = ImageClassifier.labels(p, count);
            for (int i = 0; i < count; i++) {
                int index = order[from + i];
                int truth = test.label(index);
                if (labels[i] == truth && p[i * classes + truth] >= confidence && chosen.get(truth).size() < perClass) {
                    chosen.get(truth).add(index);
                    full += chosen.get(truth).size() == perClass ? 1 : 0;
                }
            }
        }
        return chosen.stream().flatMap(List::stream).mapToInt(Integer::intValue).toArray();
    }

    static float[] image(Dataset test, int index) {
        return test.inputs().slice(index, index + 1).toArray();
    }

    /** Classes from the most mutilatable (largest mean share of band energy removed) to the least. */
    static List<ClassSurvival> rank(List<Item> items) {
        List<ClassSurvival> out = new ArrayList<>();
        for (int c = 0; c < FashionClassifier.CLASSES.size(); c++) {
            int cls = c;
            List<BandOcclusion.Result> mine = items.stream().filter(i -> i.trueClass() == cls).map(Item::result).toList();
            if (mine.isEmpty()) {
                continue;
            }
            double[] perBand = new double[LEVELS];
            for (BandOcclusion.Result r : mine) {
                for (int k = 0; k < LEVELS; k++) {
                    perBand[k] += r.removedEnergy()[k] / mine.size();
                }
            }
            out.add(new ClassSurvival(cls, mine.size(), mine.stream().mapToDouble(BandOcclusion.Result::meanRemovedEnergy).average()
                    .orElse(0), perBand, mine.stream().mapToDouble(BandOcclusion.Result::relativeChange).average().orElse(0)));
        }
        out.sort(Comparator.comparingDouble(ClassSurvival::meanRemoved).reversed());
        return List.copyOf(out);
    }

    @Override
    public Result run(Path dir) throws IOException {
        return report(measure(), dir);
    }

    /** The figures, tables and the claim checked against what was measured. */
    Result report(Outcome o, Path dir) throws IOException {
        List<Path> figures = new ArrayList<>();
        List<Labelled<BandOcclusion.Result>> shown = new ArrayList<>();
        for (Item it : o.items()) {
            if (shown.stream().noneMatch(s -> s.label().startsWith(className(it.trueClass()) + "\n"))) {
                shown.add(new Labelled<>(className(it.trueClass()) + "\ntest #" + it.index(), it.result()));
            }
        }
        figures.add(OcclusionFigures.bands(dir.resolve("occlusion-bands.png"),
                "Knocked out band by band, and still labelled the same (one test image per class)", shown));
        List<Labelled<SensitivityMap>> maps = new ArrayList<>();
        List<float[]> mapImages = new ArrayList<>();
        for (int i = 0; i < o.maps().size(); i++) {
            Item it = o.mapped().get(i);
            maps.add(new Labelled<>(className(it.trueClass()) + "\ntest #" + it.index(), o.maps().get(i)));
            mapImages.add(it.result().original());
        }
        figures.add(OcclusionFigures.sensitivity(dir.resolve("occlusion-sensitivity.png"), "Occlusion sensitivity: a "
                + PATCH + "x" + PATCH + " grey patch slid " + STRIDE + " pixels at a time", maps, mapImages, 1, GREY));

        Table.Builder bands = Table.builder("Mean share of each band removed with the label kept, over " + o.items().size()
                + " test images (" + PER_CLASS + " per class)", "band", "size", "energy removed", "positions removed");
        String[] bandNames = bandNames();
        int[] sides = {28, 14, 7, 4};
        for (int k = 0; k < LEVELS; k++) {
            bands.row(bandNames[k], sides[k] + "x" + sides[k], percent(o.meanEnergy()[k]), percent(o.meanArea()[k]));
        }
        Table.Builder classes = Table.builder("Classes from the most mutilatable to the least: mean share of band energy removed",
                "class", "images", "mean over bands", "left", "band 0", "band 1", "band 2", "low-pass", "pixel change");
        for (ClassSurvival s : o.ranking()) {
            classes.row(className(s.cls()), s.images(), percent(s.meanRemoved()), percent1(s.kept()), percent(s.perBand()[0]),
                    percent(s.perBand()[1]), percent(s.perBand()[2]), percent(s.perBand()[3]), percent(s.meanChange()));
        }
        Table.Builder images = Table.builder("Every searched image (the label kept is re-checked on the final image alone)",
                "test image", "class", "p before", "p after", "energy removed per band (0, 1, 2, low-pass)", "pixel change", "rounds",
                "forward passes");
        for (Item it : o.items()) {
            BandOcclusion.Result r = it.result();
            StringBuilder per = new StringBuilder();
            for (double e : r.removedEnergy()) {
                per.append(per.isEmpty() ? "" : ", ").append(percent(e));
            }
            images.row("#" + it.index(), className(it.trueClass()), fmt(r.originalProbability()), fmt(r.finalProbability()), per,
                    percent(r.relativeChange()), r.rounds(), r.evaluations());
        }
        Table.Builder sensitivity = Table.builder("Occlusion sensitivity, one image per class", "class", "p(true)", "largest drop",
                "median drop", "positions with a drop > 0.1");
        int localised = 0;
        for (int i = 0; i < o.maps().size(); i++) {
            SensitivityMap m = o.maps().get(i);
            float median = median(m.drops());
            int over = 0;
            for (float v : m.drops()) {
                over += v > 0.1f ? 1 : 0;
            }
            localised += isLocalised(m) ? 1 : 0;
            sensitivity.row(className(o.mapped().get(i).trueClass()), fmt(m.baseline()), fmt(m.maxDrop()), fmt(median),
                    over + " of " + m.drops().length);
        }

        ClassSurvival most = o.ranking().get(0);
        ClassSurvival least = o.ranking().get(o.ranking().size() - 1);
        boolean kept = o.items().stream().allMatch(it -> it.result().label() == it.trueClass()
                && it.result().finalProbability() >= MIN_PROBABILITY);
        boolean much = Arrays.stream(o.meanEnergy()).allMatch(e -> e >= MUCH);
        boolean spread = least.kept() >= SPREAD * most.kept();
        boolean held = kept && much && spread && localised * 2 > o.maps().size();
        StringBuilder perBand = new StringBuilder();
        for (int k = 0; k < LEVELS; k++) {
            perBand.append(k == 0 ? "" : ", ").append(bandNames[k]).append(' ').append(percent(o.meanEnergy()[k]));
        }
        String measured = String.format(Locale.ROOT, "%d test images the net (%.1f%% test accuracy) labels correctly with p >= %.1f,"
                + " %d per class, kept their labels (each final image re-checked alone, p >= %.1f) with these mean shares of each band's energy"
                + " knocked out: %s. What is left looks like nothing to us. Most mutilatable: %s (%s of its bands removed, %s left);"
                + " least: %s (%s removed, %s left: %.0f times as much had to stay). A grey %dx%d patch hurts in few places: in %d of"
                + " %d images the worst spot costs more than %.0f times the median one. %.1f s of band search, %.1f s of maps.",
                o.items().size(), 100 * o.testAccuracy(), CONFIDENT, PER_CLASS, MIN_PROBABILITY, perBand, className(most.cls()),
                percent(most.meanRemoved()), percent1(most.kept()), className(least.cls()), percent(least.meanRemoved()),
                percent1(least.kept()), least.kept() / Math.max(most.kept(), 1e-9), PATCH, PATCH, localised, o.maps().size(), LOCALISED,
                o.bandSeconds(), o.mapSeconds());
        String claim = "A net that labels well does not see like we see: knock much of an image out, band by band, and it still"
                + " gives the same label; how much can go depends on the object (of the guitar: \"we weren't able to mutilate that"
                + " one very much\"). A grey patch slid over the image lowers the true class's probability in a few places only.";
        return new Result(name(), title(), claim, measured, held, figures,
                List.of(bands.build(), classes.build(), sensitivity.build(), images.build()));
    }

    /** The worst patch costs more than 0.1 and {@link #LOCALISED} times the median patch. */
    static boolean isLocalised(SensitivityMap m) {
        return m.maxDrop() > 0.1f && m.maxDrop() > LOCALISED * Math.max(median(m.drops()), 0.01f);
    }

    static float median(float[] values) {
        float[] d = values.clone();
        Arrays.sort(d);
        return d[d.length / 2];
    }

    static String[] bandNames() {
        return new String[] {"band 0", "band 1", "band 2", "low-pass"};
    }

    static String className(int c) {
        return FashionClassifier.CLASSES.get(c);
    }

    static String percent(double f) {
        return String.format(Locale.ROOT, "%.0f%%", 100 * f);
    }

    static String percent1(double f) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * f);
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
