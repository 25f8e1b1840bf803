package dev.deepnet.lab.report;

import dev.deepnet.occlusion.BandOcclusion;
import dev.deepnet.occlusion.SensitivityMap;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The occlusion experiments' pictures, shared by {@code deepnet occlude} and the lab. */
public final class OcclusionFigures {
    private OcclusionFigures() {}

    /** The side, in screen pixels, each image of the band figure is enlarged to fill (by whole pixels). */
    private static final int BAND_SIDE = 112;
    /** The same for the sensitivity figure. */
    private static final int SENSITIVITY_SIDE = 96;

    /** An image of the band search or the sensitivity map, with the caption of its row. */
    public record Labelled<T>(String label, T item) {}

    /**
     * One row per search: the original, the mutilated image that keeps its label, then each band's
     * coefficient magnitudes with what was knocked out tinted red.
     */
    public static Path bands(Path png, String title, List<Labelled<BandOcclusion.Result>> results) throws IOException {
        if (results.isEmpty()) {
            throw new IllegalArgumentException("no band searches to draw in " + png);
        }
        BandOcclusion.Result first = results.get(0).item();
        int[] chw = chw(first);
        List<String> columns = new ArrayList<>(List.of("original", "label kept", "stretched"));
        for (BandOcclusion.Band b : first.bands()) {
            columns.add(b.level() == first.bands().size() - 1 ? "low-pass " + b.height() + "x" + b.width()
                    : "band " + b.level() + " " + b.height() + "x" + b.width());
        }
        ImageGrid.Builder grid = ImageGrid.builder(title).columns(columns.toArray(String[]::new)).scale(1)
                .note("Bands: |coefficient| (white = large); red = knocked out. Captions: share of the band's energy, and of its positions,"
                        + " removed.");
        for (Labelled<BandOcclusion.Result> l : results) {
            BandOcclusion.Result r = l.item();
            float[] range = range(r.original());
            List<ImageGrid.Cell> row = new ArrayList<>();
            row.add(image(r.original(), chw, range, BAND_SIDE, String.format(Locale.ROOT, "p = %.2f", r.originalProbability())));
            row.add(image(r.occluded(), chw, range, BAND_SIDE, String.format(Locale.ROOT, "p = %.2f\nchanged %.0f%%",
                    r.finalProbability(), 100 * r.relativeChange())));
            // What is left is faint; stretched to its own range it shows what the net still goes by.
            float[] left = stretch(r.occluded());
            row.add(image(r.occluded(), chw, left, BAND_SIDE, String.format(Locale.ROOT, "range %.2f..%.2f", left[0], left[1])));
            for (BandOcclusion.Band b : r.bands()) {
                float[] magnitude = magnitude(r.pyramid().band(b.level()), b.height() * b.width());
                float max = 1e-6f;
                for (float v : magnitude) {
                    max = Math.max(max, v);
                }
                ImageGrid.Cell band = ImageGrid.values(magnitude, b.width(), b.height(), ImageGrid.grey(0, max),
                        String.format(Locale.ROOT, "%.0f%% energy\n%.0f%% area", 100 * b.removedEnergy(), 100 * b.removedArea()));
                row.add(fit(marked(band, b.removed()), BAND_SIDE));
            }
            grid.row(l.label(), row);
        }
        grid.write(png);
        return png;
    }

    /**
     * One row per map: the image, the drop in the true class's probability per pixel (mean over the
     * patches covering it, black 0 to white 1), and the image under its most damaging patch.
     */
    public static Path sensitivity(Path png, String title, List<Labelled<SensitivityMap>> maps, List<float[]> images, int channels,
            float fill) throws IOException {
        if (maps.isEmpty() || maps.size() != images.size()) {
            throw new IllegalArgumentException(maps.size() + " maps but " + images.size() + " images to draw in " + png);
        }
        ImageGrid.Builder grid = ImageGrid.builder(title).columns("image", "drop in p(true)", "worst patch").scale(1)
                .note("Heat: how much the true class's probability falls when a patch hides that spot (black 0, through red and"
                        + " yellow, white 1).");
        for (int i = 0; i < maps.size(); i++) {
            SensitivityMap m = maps.get(i).item();
            int[] chw = {channels, m.height(), m.width()};
            float[] x = images.get(i);
            float[] range = range(x);
            int worst = 0;
            for (int j = 1; j < m.drops().length; j++) {
                if (m.drops()[j] > m.drops()[worst]) {
                    worst = j;
                }
            }
            int top = m.tops()[worst / m.cols()];
            int left = m.lefts()[worst % m.cols()];
            float[] hidden = x.clone();
            for (int ch = 0; ch < channels; ch++) {
                for (int y = top; y < top + m.patch(); y++) {
                    for (int c = left; c < left + m.patch(); c++) {
                        hidden[(ch * m.height() + y) * m.width() + c] = fill;
                    }
                }
            }
            grid.row(maps.get(i).label(),
                    image(x, chw, range, SENSITIVITY_SIDE, String.format(Locale.ROOT, "p = %.2f", m.baseline())),
                    fit(ImageGrid.values(m.perPixel(), m.width(), m.height(), ImageGrid.heat(0, 1),
                            String.format(Locale.ROOT, "max drop %.2f", m.maxDrop())), SENSITIVITY_SIDE),
                    image(hidden, chw, range, SENSITIVITY_SIDE, String.format(Locale.ROOT, "p = %.2f", m.baseline() - m.drops()[worst])));
        }
        grid.write(png);
        return png;
    }

    private static int[] chw(BandOcclusion.Result r) {
        var s = r.pyramid().imageShape();
        return s.rank() == 2 ? new int[] {1, s.intDim(0), s.intDim(1)} : new int[] {s.intDim(0), s.intDim(1), s.intDim(2)};
    }

    /**
     * Grey or RGB over {@code range} ([min(0, smallest), max(1, largest)]: [0, 1] for Fashion-MNIST,
     * wider for normalised photos), enlarged to {@code side}.
     */
    private static ImageGrid.Cell image(float[] x, int[] chw, float[] range, int side, String caption) {
        int h = chw[1];
        int w = chw[2];
        if (chw[0] == 3) {
            return fit(ImageGrid.rgb(x, w, h, range[0], range[1], caption), side);
        }
        float[] shown = chw[0] == 1 ? x : java.util.Arrays.copyOf(x, h * w); // other channel counts: the first channel
        return fit(ImageGrid.values(shown, w, h, ImageGrid.grey(range[0], range[1]), caption), side);
    }

    /**
     * The cell with each pixel a block of the largest whole size that keeps it within {@code side}
     * screen pixels (drawn at scale 1), so images of different sizes in one row (a pyramid's bands)
     * fill the same space and every coefficient stays a visible square.
     */
    private static ImageGrid.Cell fit(ImageGrid.Cell cell, int side) {
        int k = Math.max(1, Math.min(side / cell.width(), side / cell.height()));
        return new ImageGrid.Cell(cell.width() * k, cell.height() * k, (x, y) -> cell.pixels().at(x / k, y / k), cell.caption());
    }

    /** The cell with the {@code marked} positions (row-major, one per pixel) tinted red, what was under them still showing. */
    private static ImageGrid.Cell marked(ImageGrid.Cell cell, boolean[] marked) {
        int w = cell.width();
        if (marked.length != w * cell.height()) {
            throw new IllegalArgumentException("the marks of a " + w + "x" + cell.height() + " image need " + w * cell.height()
                    + " entries, got " + marked.length);
        }
        boolean[] m = marked.clone();
        return new ImageGrid.Cell(w, cell.height(), (x, y) -> {
            Color c = cell.pixels().at(x, y);
            return m[y * w + x] ? new Color((c.getRed() + 3 * 230) / 4, (c.getGreen() + 3 * 30) / 4, (c.getBlue() + 3 * 30) / 4) : c;
        }, cell.caption());
    }

    private static float[] range(float[] x) {
        float lo = 0;
        float hi = 1;
        for (float v : x) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        return new float[] {lo, hi};
    }

    /** The smallest and largest value (made a little apart when equal). */
    private static float[] stretch(float[] x) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float v : x) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        return new float[] {lo, Math.max(hi, lo + 1e-6f)};
    }

    /** sqrt of the energy at each position, summed over channels. */
    private static float[] magnitude(float[] band, int plane) {
        double[] e = new double[plane];
        for (int i = 0; i < band.length; i++) {
            e[i % plane] += (double) band[i] * band[i];
        }
        float[] m = new float[plane];
        for (int i = 0; i < plane; i++) {
            m[i] = (float) Math.sqrt(e[i]);
        }
        return m;
    }
}
