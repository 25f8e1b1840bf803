package dev.deepnet.occlusion;

import dev.deepnet.tensor.Shape;

/**
 * An image split into frequency bands that add back up to it: band 0 holds the finest detail at
 * full resolution, each next band the detail of an image blurred and halved once more, and the
 * last band the remaining low-pass image (Burt and Adelson's Laplacian pyramid).
 *
 * <pre>
 * G0 = image,  G(k+1) = down(G(k))          blur with the binomial kernel [1 4 6 4 1]/16, keep every
 *                                           second sample; a side of n becomes ceil(n/2): 28, 14, 7, 4
 * band k = G(k) - up(G(k+1))  (k &lt; L-1)   up: the same kernel, doubled, through the coarse samples
 * band L-1 = G(L-1)
 * image = band 0 + up(band 1 + up(band 2 + ... + up(band L-1)))   exact: the same up() both ways
 * </pre>
 *
 * Reconstruction is exact whatever blur and up() are, as long as both directions use the same
 * up(); the binomial kernel only decides what each band means. At the borders both filters
 * renormalise over the taps that fall inside the image, so a flat image stays flat at every level
 * and sides that are not powers of two need no padding.
 *
 * <p>Images are {@code (C, H, W)} or {@code (H, W)} floats, row-major. Bands are {@code (C, Hk, Wk)};
 * the masks of {@link #reconstruct(boolean[][])} are per position {@code (Hk, Wk)}, shared by the
 * channels. Immutable.
 */
public final class LaplacianPyramid {

    /** The binomial kernel [1 4 6 4 1], taps at offsets -2..2; normalised where it is applied. */
    private static final double[] KERNEL = {1, 4, 6, 4, 1};

    private final Shape imageShape;
    private final int channels;
    private final int[] heights; // per band
    private final int[] widths;
    private final float[][] bands; // band k: (C, heights[k], widths[k])

    private LaplacianPyramid(Shape imageShape, int channels, int[] heights, int[] widths, float[][] bands) {
        this.imageShape = imageShape;
        this.channels = channels;
        this.heights = heights;
        this.widths = widths;
        this.bands = bands;
    }

    /** Splits {@code image} of shape {@code (C, H, W)} or {@code (H, W)} into {@code levels} bands. */
    public static LaplacianPyramid decompose(float[] image, Shape shape, int levels) {
        int[] chw = imageDims(shape, "image");
        if (image.length != shape.size()) {
            throw new IllegalArgumentException("an image of shape " + shape + " has " + shape.size() + " floats, got " + image.length);
        }
        int max = maxLevels(shape);
        if (levels < 1 || levels > max) {
            throw new IllegalArgumentException("levels must be between 1 and " + max + " for an image of " + chw[1] + "x" + chw[2]
                    + " (halving until 1x1), got " + levels);
        }
        int c = chw[0];
        int[] heights = new int[levels];
        int[] widths = new int[levels];
        heights[0] = chw[1];
        widths[0] = chw[2];
        for (int k = 1; k < levels; k++) {
            heights[k] = half(heights[k - 1]);
            widths[k] = half(widths[k - 1]);
        }
        float[][] gaussian = new float[levels][];
        gaussian[0] = image.clone();
        for (int k = 1; k < levels; k++) {
            gaussian[k] = down(gaussian[k - 1], c, heights[k - 1], widths[k - 1]);
        }
        float[][] bands = new float[levels][];
        bands[levels - 1] = gaussian[levels - 1];
        for (int k = 0; k < levels - 1; k++) {
            float[] up = up(gaussian[k + 1], c, heights[k + 1], widths[k + 1], heights[k], widths[k]);
            float[] band = new float[up.length];
            for (int i = 0; i < band.length; i++) {
                band[i] = gaussian[k][i] - up[i];
            }
            bands[k] = band;
        }
        return new LaplacianPyramid(shape, c, heights, widths, bands);
    }

    /** The most bands an image of this shape can be split into: halving each side until both are 1. */
    public static int maxLevels(Shape shape) {
        int[] chw = imageDims(shape, "image");
        int h = chw[1];
        int w = chw[2];
        int levels = 1;
        while (h > 1 || w > 1) {
            h = half(h);
            w = half(w);
            levels++;
        }
        return levels;
    }

    /** (C, H, W) of an image shape, C = 1 for (H, W); throws naming {@code what} otherwise. */
    static int[] imageDims(Shape shape, String what) {
        if (shape.rank() == 2) {
            return new int[] {1, shape.intDim(0), shape.intDim(1)};
        }
        if (shape.rank() == 3) {
            return new int[] {shape.intDim(0), shape.intDim(1), shape.intDim(2)};
        }
        throw new IllegalArgumentException(what + " shape must be (C, H, W) or (H, W), got " + shape);
    }

    private static int half(int n) {
        return (n + 1) / 2;
    }

    public Shape imageShape() {
        return imageShape;
    }

    public int levels() {
        return bands.length;
    }

    public int channels() {
        return channels;
    }

    /** Height of band {@code k} (the image's for band 0, then halved, rounding up). */
    public int height(int k) {
        checkBand(k);
        return heights[k];
    }

    public int width(int k) {
        checkBand(k);
        return widths[k];
    }

    /** Band {@code k}'s coefficients, (C, Hk, Wk): a copy. */
    public float[] band(int k) {
        checkBand(k);
        return bands[k].clone();
    }

    /** Sum of the squares of band {@code k}'s coefficients. */
    public double energy(int k) {
        checkBand(k);
        double e = 0;
        for (float v : bands[k]) {
            e += (double) v * v;
        }
        return e;
    }

    /** Band {@code k} alone brought up to the image's size: the bands so upsampled sum to the image. */
    public float[] upsampled(int k) {
        checkBand(k);
        float[] g = bands[k];
        for (int j = k; j > 0; j--) {
            g = up(g, channels, heights[j], widths[j], heights[j - 1], widths[j - 1]);
        }
        return g == bands[k] ? g.clone() : g;
    }

    /** The image again: the bands collapsed from the coarsest up. */
    public float[] reconstruct() {
        return reconstruct(null);
    }

    /**
     * The image with some coefficients knocked out: {@code removed[k][y * Wk + x]} true zeroes band
     * {@code k} at (y, x) in every channel. {@code removed} or any {@code removed[k]} may be null
     * (nothing removed there).
     */
    public float[] reconstruct(boolean[][] removed) {
        if (removed != null && removed.length != bands.length) {
            throw new IllegalArgumentException("expected a mask for each of the " + bands.length + " bands, got " + removed.length);
        }
        int last = bands.length - 1;
        float[] g = masked(last, removed == null ? null : removed[last]);
        for (int k = last - 1; k >= 0; k--) {
            float[] up = up(g, channels, heights[k + 1], widths[k + 1], heights[k], widths[k]);
            float[] band = bands[k];
            boolean[] mask = removed == null ? null : removed[k];
            checkMask(k, mask);
            int plane = heights[k] * widths[k];
            for (int i = 0; i < up.length; i++) {
                if (mask == null || !mask[i % plane]) {
                    up[i] += band[i];
                }
            }
            g = up;
        }
        return g;
    }

    private float[] masked(int k, boolean[] mask) {
        checkMask(k, mask);
        float[] b = bands[k].clone();
        if (mask != null) {
            int plane = heights[k] * widths[k];
            for (int i = 0; i < b.length; i++) {
                if (mask[i % plane]) {
                    b[i] = 0;
                }
            }
        }
        return b;
    }

    private void checkMask(int k, boolean[] mask) {
        if (mask != null && mask.length != heights[k] * widths[k]) {
            throw new IllegalArgumentException("the mask of band " + k + " must have " + heights[k] + "x" + widths[k] + " = "
                    + heights[k] * widths[k] + " entries, got " + mask.length);
        }
    }

    private void checkBand(int k) {
        if (k < 0 || k >= bands.length) {
            throw new IndexOutOfBoundsException("band " + k + " of a pyramid of " + bands.length + " bands");
        }
    }

    /** Blur with the binomial kernel and keep every second sample, rows then columns: (c, h, w) to (c, ceil(h/2), ceil(w/2)). */
    static float[] down(float[] src, int c, int h, int w) {
        int hh = half(h);
        int ww = half(w);
        float[] rows = new float[c * h * ww];
        for (int p = 0; p < c * h; p++) {
            for (int j = 0; j < ww; j++) {
                double sum = 0;
                double weight = 0;
                for (int d = -2; d <= 2; d++) {
                    int x = 2 * j + d;
                    if (x >= 0 && x < w) {
                        sum += KERNEL[d + 2] * src[p * w + x];
                        weight += KERNEL[d + 2];
                    }
                }
                rows[p * ww + j] = (float) (sum / weight);
            }
        }
        float[] out = new float[c * hh * ww];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < hh; i++) {
                for (int j = 0; j < ww; j++) {
                    double sum = 0;
                    double weight = 0;
                    for (int d = -2; d <= 2; d++) {
                        int y = 2 * i + d;
                        if (y >= 0 && y < h) {
                            sum += KERNEL[d + 2] * rows[(ch * h + y) * ww + j];
                            weight += KERNEL[d + 2];
                        }
                    }
                    out[(ch * hh + i) * ww + j] = (float) (sum / weight);
                }
            }
        }
        return out;
    }

    /**
     * From (c, h, w) up to (c, outH, outW), outH in {2h - 1, 2h}: each output sample is the
     * kernel-weighted mean of the coarse samples 2i within two of it (the transpose of
     * {@link #down}'s subsampling, renormalised: interior weights 6+1+1 or 4+4).
     */
    static float[] up(float[] src, int c, int h, int w, int outH, int outW) {
        float[] rows = new float[c * h * outW];
        for (int p = 0; p < c * h; p++) {
            for (int x = 0; x < outW; x++) {
                double sum = 0;
                double weight = 0;
                for (int i = (x - 1) / 2; i <= (x + 2) / 2; i++) {
                    int d = x - 2 * i;
                    if (i >= 0 && i < w && d >= -2 && d <= 2) {
                        sum += KERNEL[d + 2] * src[p * w + i];
                        weight += KERNEL[d + 2];
                    }
                }
                rows[p * outW + x] = (float) (sum / weight);
            }
        }
        float[] out = new float[c * outH * outW];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    double sum = 0;
                    double weight = 0;
                    for (int i = (y - 1) / 2; i <= (y + 2) / 2; i++) {
                        int d = y - 2 * i;
                        if (i >= 0 && i < h && d >= -2 && d <= 2) {
                            sum += KERNEL[d + 2] * rows[(ch * h + i) * outW + x];
                            weight += KERNEL[d + 2];
                        }
                    }
                    out[(ch * outH + y) * outW + x] = (float) (sum / weight);
                }
            }
        }
        return out;
    }
}
