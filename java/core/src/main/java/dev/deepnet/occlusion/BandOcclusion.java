package dev.deepnet.occlusion;

import dev.deepnet.tensor.Shape;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Frequency-band occlusion: how much of an image can be knocked out, band by band, while a
 * classifier still gives it the same label. The image is split into a {@link LaplacianPyramid};
 * rectangles of coefficients, each at its band's scale, are zeroed; the pyramid is collapsed again
 * and the change kept only if the label survives.
 *
 * <p>The greedy rule, one round at a time:
 * <ol>
 * <li>draw up to {@code candidates} rectangles (a band at random, then sides up to
 *     {@code maxSide} of that band's sides, then a position), keeping those that would remove
 *     something still there;
 * <li>evaluate every candidate on top of what is already removed, in one batch;
 * <li>rank those that keep the label by how much they remove (the share of their band's energy,
 *     the sum of squared coefficients, not yet removed), then evaluate the growing unions of the
 *     best 2, 3, ... in a second batch, and keep the largest union that keeps the label.
 * </ol>
 * An image keeps its label while the label is the most probable class and, when a floor is set
 * ({@code minProbability}), at least that probable. Each round costs two batched forward passes
 * and may remove many rectangles. It stops when no
 * rectangle would remove anything more, after {@code patience} rounds in a row with nothing kept,
 * or after {@code maxRounds}. Every kept image was itself evaluated; the final image is evaluated
 * once more, alone, and rounds are undone until that re-check also gives the label (a batched and
 * a single evaluation may round differently), so the result's label is re-checked, not assumed.
 *
 * <p>"How much" is measured in energy, not area: zeroing coefficients that are already near zero
 * (a black background has none in its detail bands) changes nothing and proves nothing. Both are
 * reported. Same image, same settings, same seed: same result.
 */
public final class BandOcclusion {

    private final ImageClassifier classifier;
    private final Shape imageShape;
    private final int levels;
    private final int candidates;
    private final int maxRounds;
    private final int patience;
    private final double maxSide;
    private final double minProbability;
    private final long seed;

    private BandOcclusion(Builder b) {
        this.classifier = b.classifier;
        this.imageShape = b.imageShape;
        this.levels = b.levels;
        this.candidates = b.candidates;
        this.maxRounds = b.maxRounds;
        this.patience = b.patience;
        this.maxSide = b.maxSide;
        this.minProbability = b.minProbability;
        this.seed = b.seed;
    }

    /** A search over images of {@code imageShape} ((C, H, W) or (H, W)) judged by {@code classifier}. */
    public static Builder builder(ImageClassifier classifier, Shape imageShape) {
        return new Builder(classifier, imageShape);
    }

    /** The settings, each checked when set. */
    public static final class Builder {
        private final ImageClassifier classifier;
        private final Shape imageShape;
        private int levels;
        private int candidates = 64;
        private int maxRounds = 40;
        private int patience = 3;
        private double maxSide = 0.5;
        private double minProbability;
        private long seed = 1;

        private Builder(ImageClassifier classifier, Shape imageShape) {
            if (classifier == null) {
                throw new IllegalArgumentException("classifier is null");
            }
            LaplacianPyramid.imageDims(imageShape, "image");
            this.classifier = classifier;
            this.imageShape = imageShape;
            this.levels = Math.min(4, LaplacianPyramid.maxLevels(imageShape));
        }

        /** Bands of the pyramid (default 4, or fewer when the image is too small): 28x28 gives 28, 14, 7, 4. */
        public Builder levels(int levels) {
            int max = LaplacianPyramid.maxLevels(imageShape);
            if (levels < 1 || levels > max) {
                throw new IllegalArgumentException("levels must be between 1 and " + max + " for images of " + imageShape + ", got "
                        + levels);
            }
            this.levels = levels;
            return this;
        }

        /** Rectangles tried per round, evaluated in one batch (default 64). */
        public Builder candidates(int candidates) {
            if (candidates < 1) {
                throw new IllegalArgumentException("candidates (rectangles tried per round) must be >= 1, got " + candidates);
            }
            this.candidates = candidates;
            return this;
        }

        /** At most this many rounds (default 40). */
        public Builder maxRounds(int maxRounds) {
            if (maxRounds < 0) {
                throw new IllegalArgumentException("maxRounds must be >= 0, got " + maxRounds);
            }
            this.maxRounds = maxRounds;
            return this;
        }

        /** Stop after this many rounds in a row that kept nothing (default 3). */
        public Builder patience(int patience) {
            if (patience < 1) {
                throw new IllegalArgumentException("patience (rounds in a row without progress before stopping) must be >= 1, got "
                        + patience);
            }
            this.patience = patience;
            return this;
        }

        /** The largest rectangle side as a fraction of its band's side, in (0, 1] (default 0.5). */
        public Builder maxSide(double maxSide) {
            if (!(maxSide > 0 && maxSide <= 1)) {
                throw new IllegalArgumentException("maxSide (largest rectangle side / band side) must be in (0, 1], got " + maxSide);
            }
            this.maxSide = maxSide;
            return this;
        }

        /**
         * The label counts as kept only while its probability is at least this, in [0, 1) (default
         * 0: while it is the most probable class). Knocking nearly everything out leaves an image
         * the net finds ambiguous, and a bare plurality such as 0.2 of 10 classes may still pick
         * the original label; a floor such as 0.5 asks that the net still says so with conviction.
         */
        public Builder minProbability(double minProbability) {
            if (!(minProbability >= 0 && minProbability < 1)) {
                throw new IllegalArgumentException("minProbability must be in [0, 1), got " + minProbability);
            }
            this.minProbability = minProbability;
            return this;
        }

        /** Seeds the order in which rectangles are drawn (default 1). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public BandOcclusion build() {
            return new BandOcclusion(this);
        }
    }

    /** What a search removed from one band. {@code removed[y * width + x]}: zeroed in every channel. */
    public record Band(int level, int height, int width, boolean[] removed, double removedArea, double removedEnergy) {}

    /**
     * The outcome: the label the classifier gave the original and still gives the occluded image
     * ({@code finalProbability} from the re-check), each band's mask and what it removed;
     * {@code rounds} run, {@code rectangles} kept (overlaps counted), {@code evaluations} (images the
     * classifier saw) and {@code undone} (rounds taken back because the re-check disagreed). The
     * arrays are the result's own.
     */
    public record Result(int label, float originalProbability, float finalProbability, float[] original, float[] occluded,
            LaplacianPyramid pyramid, List<Band> bands, int rounds, int rectangles, int evaluations, int undone) {

        /** Band {@code k}'s share of energy removed, for each band. */
        public double[] removedEnergy() {
            return bands.stream().mapToDouble(Band::removedEnergy).toArray();
        }

        /** Band {@code k}'s share of positions zeroed, for each band. */
        public double[] removedArea() {
            return bands.stream().mapToDouble(Band::removedArea).toArray();
        }

        /** The mean over bands of the share of energy removed: one number for how mutilated the image is. */
        public double meanRemovedEnergy() {
            return bands.stream().mapToDouble(Band::removedEnergy).average().orElse(0);
        }

        /** |occluded - original| / |original| in pixel space. */
        public double relativeChange() {
            double d = 0;
            double n = 0;
            for (int i = 0; i < original.length; i++) {
                d += (double) (occluded[i] - original[i]) * (occluded[i] - original[i]);
                n += (double) original[i] * original[i];
            }
            return n == 0 ? 0 : Math.sqrt(d / n);
        }
    }

    /** One candidate: a rectangle of band {@code band}'s positions, and the share of that band's energy it would remove. */
    private record Rect(int band, int top, int left, int height, int width, double gain) {}

    /** A round that kept something: the masks before it (to undo it) and how many rectangles it added. */
    private record KeptRound(boolean[][] before, int rectangles) {}

    /**
     * Knocks out as much of {@code image} as keeps the label the classifier gives it now (with at
     * least {@code minProbability}). An image whose own label is less probable than that is
     * returned untouched.
     */
    public Result search(float[] image) {
        if (image.length != imageShape.size()) {
            throw new IllegalArgumentException("an image of shape " + imageShape + " has " + imageShape.size() + " floats, got "
                    + image.length);
        }
        LaplacianPyramid pyramid = LaplacianPyramid.decompose(image, imageShape, levels);
        int size = image.length;
        float[] first = classifier.probabilities(image.clone(), 1);
        int label = ImageClassifier.labels(first, 1)[0];
        int classes = ImageClassifier.classes(first, 1);
        float originalProbability = first[label];
        int evaluations = 1;

        // Energy per position (summed over channels) and per band: what a rectangle's gain is measured in.
        double[][] positionEnergy = new double[levels][];
        double[] bandEnergy = new double[levels];
        for (int k = 0; k < levels; k++) {
            int plane = pyramid.height(k) * pyramid.width(k);
            float[] band = pyramid.band(k);
            positionEnergy[k] = new double[plane];
            for (int i = 0; i < band.length; i++) {
                positionEnergy[k][i % plane] += (double) band[i] * band[i];
            }
            bandEnergy[k] = pyramid.energy(k);
        }

        boolean[][] removed = emptyMasks(pyramid);
        Deque<KeptRound> kept = new ArrayDeque<>();
        SplittableRandom random = new SplittableRandom(seed);
        int rounds = 0;
        int failures = 0;
        boolean searchable = holds(first, 0, label, classes);
        while (searchable && rounds < maxRounds && failures < patience) {
            List<Rect> drawn = draw(random, pyramid, removed, positionEnergy, bandEnergy);
            if (drawn.isEmpty()) {
                break; // nothing left that any rectangle would remove
            }
            rounds++;
            float[] batch = new float[drawn.size() * size];
            for (int i = 0; i < drawn.size(); i++) {
                boolean[][] masks = copy(removed);
                apply(drawn.get(i), masks, pyramid);
                System.arraycopy(pyramid.reconstruct(masks), 0, batch, i * size, size);
            }
            boolean[] keeps = keeps(batch, drawn.size(), label, classes);
            evaluations += drawn.size();
            List<Rect> keepers = new ArrayList<>();
            for (int i = 0; i < drawn.size(); i++) {
                if (keeps[i]) {
                    keepers.add(drawn.get(i));
                }
            }
            if (keepers.isEmpty()) {
                failures++;
                continue;
            }
            failures = 0;
            // Stable sort: equal gains stay in the seeded order they were drawn in.
            keepers.sort((a, b) -> Double.compare(b.gain(), a.gain()));
            int best = 1; // the single best keeper was evaluated above
            if (keepers.size() > 1) {
                float[] unions = new float[(keepers.size() - 1) * size];
                boolean[][] masks = copy(removed);
                apply(keepers.get(0), masks, pyramid);
                for (int j = 1; j < keepers.size(); j++) {
                    apply(keepers.get(j), masks, pyramid);
                    System.arraycopy(pyramid.reconstruct(masks), 0, unions, (j - 1) * size, size);
                }
                boolean[] unionKeeps = keeps(unions, keepers.size() - 1, label, classes);
                evaluations += keepers.size() - 1;
                for (int j = keepers.size(); j >= 2; j--) {
                    if (unionKeeps[j - 2]) {
                        best = j;
                        break;
                    }
                }
            }
            kept.push(new KeptRound(copy(removed), best));
            for (int j = 0; j < best; j++) {
                apply(keepers.get(j), removed, pyramid);
            }
        }

        // The re-check: the final image alone. Undo whole rounds until it keeps the label.
        int undone = 0;
        float[] occluded;
        float[] check;
        while (true) {
            occluded = kept.isEmpty() ? image.clone() : pyramid.reconstruct(removed);
            check = classifier.probabilities(occluded.clone(), 1);
            evaluations++;
            if (kept.isEmpty() || holds(check, 0, label, classes)) {
                break;
            }
            removed = kept.pop().before();
            undone++;
        }
        if (kept.isEmpty()) {
            removed = emptyMasks(pyramid);
            if (ImageClassifier.labels(check, 1)[0] != label) {
                throw new IllegalStateException("the classifier gives the unchanged image class " + ImageClassifier.labels(check, 1)[0]
                        + " now but gave it class " + label + " before: it is not deterministic");
            }
        }
        List<Band> bands = new ArrayList<>();
        for (int k = 0; k < levels; k++) {
            int count = 0;
            double energy = 0;
            for (int i = 0; i < removed[k].length; i++) {
                if (removed[k][i]) {
                    count++;
                    energy += positionEnergy[k][i];
                }
            }
            bands.add(new Band(k, pyramid.height(k), pyramid.width(k), removed[k].clone(), (double) count / removed[k].length,
                    bandEnergy[k] == 0 ? 0 : Math.min(1, energy / bandEnergy[k])));
        }
        int rectangles = kept.stream().mapToInt(KeptRound::rectangles).sum();
        return new Result(label, originalProbability, check[label], image.clone(), occluded, pyramid, List.copyOf(bands), rounds,
                rectangles, evaluations, undone);
    }

    /** Whether row {@code row} of a (count, classes) array still gives {@code label}, with at least {@code minProbability}. */
    private boolean holds(float[] p, int row, int label, int classes) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (p[row * classes + c] > p[row * classes + best]) {
                best = c;
            }
        }
        return best == label && p[row * classes + label] >= minProbability;
    }

    /** For each image of a batch, whether it keeps the label; the batch must have as many classes as the original. */
    private boolean[] keeps(float[] images, int count, int label, int classes) {
        float[] p = classifier.probabilities(images, count);
        if (ImageClassifier.classes(p, count) != classes) {
            throw new IllegalStateException("the classifier gave " + classes + " classes for one image but "
                    + ImageClassifier.classes(p, count) + " for a batch of " + count);
        }
        boolean[] out = new boolean[count];
        for (int i = 0; i < count; i++) {
            out[i] = holds(p, i, label, classes);
        }
        return out;
    }

    /** Up to {@code candidates} rectangles that would each remove some energy; at most 20 draws per slot. */
    private List<Rect> draw(SplittableRandom random, LaplacianPyramid pyramid, boolean[][] removed, double[][] positionEnergy,
            double[] bandEnergy) {
        List<Rect> out = new ArrayList<>();
        for (int tries = 0; tries < 20 * candidates && out.size() < candidates; tries++) {
            int k = random.nextInt(levels);
            int h = pyramid.height(k);
            int w = pyramid.width(k);
            int rh = 1 + random.nextInt(Math.max(1, (int) Math.ceil(h * maxSide)));
            int rw = 1 + random.nextInt(Math.max(1, (int) Math.ceil(w * maxSide)));
            int top = random.nextInt(h - rh + 1);
            int left = random.nextInt(w - rw + 1);
            if (bandEnergy[k] == 0) {
                continue;
            }
            double gained = 0;
            for (int y = top; y < top + rh; y++) {
                for (int x = left; x < left + rw; x++) {
                    if (!removed[k][y * w + x]) {
                        gained += positionEnergy[k][y * w + x];
                    }
                }
            }
            if (gained > 0) {
                out.add(new Rect(k, top, left, rh, rw, gained / bandEnergy[k]));
            }
        }
        return out;
    }

    private static void apply(Rect r, boolean[][] masks, LaplacianPyramid pyramid) {
        int w = pyramid.width(r.band());
        for (int y = r.top(); y < r.top() + r.height(); y++) {
            for (int x = r.left(); x < r.left() + r.width(); x++) {
                masks[r.band()][y * w + x] = true;
            }
        }
    }

    private static boolean[][] emptyMasks(LaplacianPyramid pyramid) {
        boolean[][] m = new boolean[pyramid.levels()][];
        for (int k = 0; k < m.length; k++) {
            m[k] = new boolean[pyramid.height(k) * pyramid.width(k)];
        }
        return m;
    }

    private static boolean[][] copy(boolean[][] masks) {
        boolean[][] c = new boolean[masks.length][];
        for (int k = 0; k < masks.length; k++) {
            c[k] = masks[k].clone();
        }
        return c;
    }
}
