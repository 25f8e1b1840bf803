package dev.deepnet.lab.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/** PNG figures drawn headless: line charts (XChart) and heat maps such as confusion matrices (Java2D). */
public final class Charts {
    private Charts() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** One named series of y values at x = 1, 2, ... (or given x); drawn as a line, or as separate points. */
    public record Series(String name, double[] x, double[] y, boolean points) {
        public Series(String name, double[] x, double[] y) {
            this(name, x, y, false);
        }

        public static Series of(String name, double[] y) {
            double[] x = new double[y.length];
            for (int i = 0; i < y.length; i++) {
                x[i] = i + 1;
            }
            return new Series(name, x, y);
        }

        /** Markers only, no line: data points. */
        public static Series points(String name, double[] x, double[] y) {
            return new Series(name, x, y, true);
        }
    }

    /** A line chart of several series, written as a PNG. */
    public static void lines(Path png, String title, String xLabel, String yLabel, List<Series> series) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        for (Series s : series) {
            org.knowm.xchart.XYSeries added = chart.addSeries(s.name(), s.x(), s.y());
            if (s.points()) {
                added.setXYSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
            } else if (s.x().length > 60) {
                added.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
            }
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /**
     * A confusion matrix: rows are true classes, columns predicted, cells shaded by the fraction
     * of the row and labelled with the count.
     */
    public static void confusionMatrix(Path png, String title, List<String> classes, long[][] counts) throws IOException {
        int n = classes.size();
        int cell = 56;
        int left = 150;
        int top = 70;
        int width = left + n * cell + 20;
        int height = top + n * cell + 130;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, 10, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString("true class (rows) vs predicted class (columns)", 10, 46);
        for (int i = 0; i < n; i++) {
            long rowTotal = 0;
            for (long c : counts[i]) {
                rowTotal += c;
            }
            g.setColor(Color.BLACK);
            g.drawString(classes.get(i), 8, top + i * cell + cell / 2 + 5);
            for (int j = 0; j < n; j++) {
                double frac = rowTotal == 0 ? 0 : (double) counts[i][j] / rowTotal;
                int shade = (int) Math.round(255 * (1 - frac));
                g.setColor(i == j ? new Color(shade, 255 - (255 - shade) / 3, shade) : new Color(255, shade, shade));
                g.fillRect(left + j * cell, top + i * cell, cell - 1, cell - 1);
                g.setColor(frac > 0.6 ? Color.WHITE : Color.BLACK);
                String label = Long.toString(counts[i][j]);
                g.drawString(label, left + j * cell + (cell - g.getFontMetrics().stringWidth(label)) / 2, top + i * cell + cell / 2 + 5);
            }
        }
        g.setColor(Color.BLACK);
        for (int j = 0; j < n; j++) {
            Graphics2D r = (Graphics2D) g.create();
            r.translate(left + j * cell + cell / 2 + 4, top + n * cell + 8);
            r.rotate(Math.PI / 2);
            r.drawString(classes.get(j), 0, 0);
            r.dispose();
        }
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
    }

    static String format(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
