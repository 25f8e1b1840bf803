package dev.deepnet.occlusion;

import dev.deepnet.tensor.Shape;

/**
 * The occlusion sensitivity map (Zeiler and Fergus): slide a patch of one value over the image and
 * record, at each position, how much the probability of the true class drops. Where the drop is
 * large the classifier relies on what the patch hid. The patch visits the top-left corners
 * {@code 0, stride, 2 stride, ...} and, when the stride does not land there, the last position
 * flush with the border, so every pixel is covered. All positions go to the classifier in one call.
 */
public final class OcclusionSensitivity {

    private final int patch;
    private final int stride;
    private final float fill;

    /** A square patch of {@code patch} pixels a side, moved {@code stride} pixels at a time, every channel set to {@code fill}. */
    public OcclusionSensitivity(int patch, int stride, float fill) {
        if (patch < 1) {
            throw new IllegalArgumentException("patch (the side of the square hidden) must be >= 1 pixel, got " + patch);
        }
        if (stride < 1) {
            throw new IllegalArgumentException("stride (pixels between patch positions) must be >= 1, got " + stride);
        }
        if (!Float.isFinite(fill)) {
            throw new IllegalArgumentException("fill (the patch's value) must be finite, got " + fill);
        }
        this.patch = patch;
        this.stride = stride;
        this.fill = fill;
    }

    /** The map for {@code image} ((C, H, W) or (H, W)) and the class whose probability is watched. */
    public SensitivityMap map(ImageClassifier classifier, float[] image, Shape shape, int trueClass) {
        int[] chw = LaplacianPyramid.imageDims(shape, "image");
        int c = chw[0];
        int h = chw[1];
        int w = chw[2];
        if (image.length != shape.size()) {
            throw new IllegalArgumentException("an image of shape " + shape + " has " + shape.size() + " floats, got " + image.length);
        }
        if (patch > h || patch > w) {
            throw new IllegalArgumentException("a patch of " + patch + "x" + patch + " does not fit in an image of " + h + "x" + w);
        }
        float[] base = classifier.probabilities(image.clone(), 1);
        int classes = ImageClassifier.classes(base, 1);
        if (trueClass < 0 || trueClass >= classes) {
            throw new IllegalArgumentException("trueClass must be in [0, " + classes + ") for this classifier, got " + trueClass);
        }
        int[] tops = positions(h);
        int[] lefts = positions(w);
        int count = tops.length * lefts.length;
        float[] batch = new float[count * image.length];
        int n = 0;
        for (int top : tops) {
            for (int left : lefts) {
                int offset = n * image.length;
                System.arraycopy(image, 0, batch, offset, image.length);
                for (int ch = 0; ch < c; ch++) {
                    for (int y = top; y < top + patch; y++) {
                        for (int x = left; x < left + patch; x++) {
                            batch[offset + (ch * h + y) * w + x] = fill;
                        }
                    }
                }
                n++;
            }
        }
        float[] p = classifier.probabilities(batch, count);
        if (ImageClassifier.classes(p, count) != classes) {
            throw new IllegalStateException("the classifier returned " + classes + " classes for one image but "
                    + ImageClassifier.classes(p, count) + " in a batch");
        }
        float[] drops = new float[count];
        for (int i = 0; i < count; i++) {
            drops[i] = base[trueClass] - p[i * classes + trueClass];
        }
        return new SensitivityMap(h, w, patch, tops, lefts, trueClass, base[trueClass], drops);
    }

    /** 0, stride, 2 stride, ... up to {@code side - patch}, then {@code side - patch} itself if missed. */
    private int[] positions(int side) {
        int last = side - patch;
        int n = last / stride + 1;
        boolean flush = last % stride != 0;
        int[] p = new int[n + (flush ? 1 : 0)];
        for (int i = 0; i < n; i++) {
            p[i] = i * stride;
        }
        if (flush) {
            p[n] = last;
        }
        return p;
    }
}
