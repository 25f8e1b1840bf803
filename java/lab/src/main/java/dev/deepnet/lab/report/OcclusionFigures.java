package dev.deepnet.lab.report;

import dev.deepnet.occlusion.BandOcclusion;
import dev.deepnet.occlusion.SensitivityMap;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The occlusion experiments' pictures, shared by {@code deepnet occlude} and the lab. */
public final class OcclusionFigures {
    private OcclusionFigures() {}

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
        ImagePanels.Builder grid = ImagePanels.builder(title).columns(columns.toArray(String[]::new))
                .note("Bands: |coefficient| (white = large); red = knocked out. Captions: share of the band's energy, and of its positions,"
                        + " removed.");
        for (Labelled<BandOcclusion.Result> l : results) {
            BandOcclusion.Result r = l.item();
            float[] range = range(r.original());
            List<ImagePanels.Panel> row = new ArrayList<>();
            row.add(image(r.original(), chw, range, String.format(Locale.ROOT, "p = %.2f", r.originalProbability())));
            row.add(image(r.occluded(), chw, range, String.format(Locale.ROOT, "p = %.2f\nchanged %.0f%%", r.finalProbability(),
                    100 * r.relativeChange())));
            // What is left is faint; stretched to its own range it shows what the net still goes by.
            float[] left = stretch(r.occluded());
            row.add(image(r.occluded(), chw, left, String.format(Locale.ROOT, "range %.2f..%.2f", left[0], left[1])));
            for (BandOcclusion.Band b : r.bands()) {
                float[] magnitude = magnitude(r.pyramid().band(b.level()), b.height() * b.width());
                float max = 1e-6f;
                for (float v : magnitude) {
                    max = Math.max(max, v);
                }
                row.add(ImagePanels.Panel.of(magnitude, b.height(), b.width(), ImagePanels.ColourMap.GREY, 0, max,
                        String.format(Locale.ROOT, "%.0f%% energy\n%.0f%% area", 100 * b.removedEnergy(), 100 * b.removedArea()))
                        .marking(b.removed()));
            }
            grid.row(l.label(), row);
        }
        return grid.write(png);
    }

    /**
     * One row per map: the image, the drop in the true class's probability per pixel (mean over the
     * patches covering it, black 0 to pale 1), and the image under its most damaging patch.
     */
    public static Path sensitivity(Path png, String title, List<Labelled<SensitivityMap>> maps, List<float[]> images, int channels,
            float fill) throws IOException {
        if (maps.isEmpty() || maps.size() != images.size()) {
            throw new IllegalArgumentException(maps.size() + " maps but " + images.size() + " images to draw in " + png);
        }
        ImagePanels.Builder grid = ImagePanels.builder(title).columns("image", "drop in p(true)", "worst patch").cell(96)
                .note("Heat: how much the true class's probability falls when a patch hides that spot (black 0, pale yellow 1).");
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
                    image(x, chw, range, String.format(Locale.ROOT, "p = %.2f", m.baseline())),
                    ImagePanels.Panel.of(m.perPixel(), m.height(), m.width(), ImagePanels.ColourMap.HEAT, 0, 1,
                            String.format(Locale.ROOT, "max drop %.2f", m.maxDrop())),
                    image(hidden, chw, range, String.format(Locale.ROOT, "p = %.2f", m.baseline() - m.drops()[worst])));
        }
        return grid.write(png);
    }

    private static int[] chw(BandOcclusion.Result r) {
        var s = r.pyramid().imageShape();
        return s.rank() == 2 ? new int[] {1, s.intDim(0), s.intDim(1)} : new int[] {s.intDim(0), s.intDim(1), s.intDim(2)};
    }

    /** Grey or RGB over [min(0, smallest), max(1, largest)]: [0, 1] for Fashion-MNIST, wider for normalised photos. */
    private static ImagePanels.Panel image(float[] x, int[] chw, float[] range, String caption) {
        int c = chw[0] == 3 ? 3 : 1;
        float[] shown = c == chw[0] ? x : java.util.Arrays.copyOf(x, chw[1] * chw[2]); // other channel counts: the first channel
        return new ImagePanels.Panel(shown, c, chw[1], chw[2], ImagePanels.ColourMap.GREY, range[0], range[1], null, caption);
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
