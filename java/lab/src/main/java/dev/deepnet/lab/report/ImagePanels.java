package dev.deepnet.lab.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A grid of small images drawn headless into a PNG: rows of panels, each a float image shown
 * through a colour map, scaled up by whole pixels (no smoothing, so every coefficient stays a
 * visible square), with a caption under it and a label left of its row. Images of different sizes
 * in one row (a pyramid's bands) are each scaled to fill the same cell.
 *
 * <pre>{@code
 * ImagePanels.builder("Band occlusion").columns("original", "mutilated")
 *         .row("Trouser", Panel.grey(x, 28, 28, "0.99"), Panel.grey(y, 28, 28, "0.61"))
 *         .write(png);
 * }</pre>
 */
public final class ImagePanels {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** How a value between a panel's low and high becomes a colour. */
    public enum ColourMap {
        /** low black, high white. */
        GREY,
        /** low blue, the middle white, high red: signed values such as band coefficients, centred on 0. */
        DIVERGING,
        /** low black, through red and orange, high pale yellow: magnitudes such as a drop in probability. */
        HEAT
    }

    /**
     * One image: {@code pixels} (C, H, W) row-major with C = 1 (through {@code map}) or 3 (RGB, each
     * channel mapped from [low, high] to [0, 255]); {@code marked} (H, W), or null, tints those
     * positions red over the image.
     */
    public record Panel(float[] pixels, int channels, int height, int width, ColourMap map, float low, float high, boolean[] marked,
            String caption) {

        public Panel {
            if (channels != 1 && channels != 3) {
                throw new IllegalArgumentException("a panel has 1 (mapped) or 3 (RGB) channels, got " + channels);
            }
            if (height < 1 || width < 1 || pixels.length != channels * height * width) {
                throw new IllegalArgumentException("a " + channels + "x" + height + "x" + width + " panel needs "
                        + channels * height * width + " values, got " + pixels.length);
            }
            if (marked != null && marked.length != height * width) {
                throw new IllegalArgumentException("the marks of a " + height + "x" + width + " panel need " + height * width
                        + " entries, got " + marked.length);
            }
            if (!(high > low)) {
                throw new IllegalArgumentException("a panel's range needs high > low, got [" + low + ", " + high + "]");
            }
        }

        /** A grey image with values in [0, 1]. */
        public static Panel grey(float[] pixels, int height, int width, String caption) {
            return new Panel(pixels, 1, height, width, ColourMap.GREY, 0, 1, null, caption);
        }

        /** One channel through {@code map} over [low, high]; values outside are clipped. */
        public static Panel of(float[] pixels, int height, int width, ColourMap map, float low, float high, String caption) {
            return new Panel(pixels, 1, height, width, map, low, high, null, caption);
        }

        /** Signed values through the diverging map, symmetric about 0 so that 0 is white. */
        public static Panel signed(float[] pixels, int height, int width, String caption) {
            float max = 1e-6f;
            for (float v : pixels) {
                max = Math.max(max, Math.abs(v));
            }
            return of(pixels, height, width, ColourMap.DIVERGING, -max, max, caption);
        }

        /** The same panel with {@code marked} positions tinted red. */
        public Panel marking(boolean[] marks) {
            return new Panel(pixels, channels, height, width, map, low, high, marks, caption);
        }
    }

    private final String title;
    private final List<String> columns;
    private final List<String> labels;
    private final List<List<Panel>> rows;
    private final int cell;
    private final String note;

    private ImagePanels(Builder b) {
        this.title = b.title;
        this.columns = List.copyOf(b.columns);
        this.labels = List.copyOf(b.labels);
        this.rows = List.copyOf(b.rows);
        this.cell = b.cell;
        this.note = b.note;
    }

    public static Builder builder(String title) {
        return new Builder(title);
    }

    public static final class Builder {
        private final String title;
        private final List<String> columns = new ArrayList<>();
        private final List<String> labels = new ArrayList<>();
        private final List<List<Panel>> rows = new ArrayList<>();
        private int cell = 112;
        private String note;

        private Builder(String title) {
            this.title = title;
        }

        /** Column headers over the panels. */
        public Builder columns(String... headers) {
            columns.clear();
            columns.addAll(List.of(headers));
            return this;
        }

        /** A row of panels with a label on its left. */
        public Builder row(String label, Panel... panels) {
            return row(label, List.of(panels));
        }

        public Builder row(String label, List<Panel> panels) {
            if (panels.isEmpty()) {
                throw new IllegalArgumentException("row '" + label + "' has no panels");
            }
            labels.add(label);
            rows.add(List.copyOf(panels));
            return this;
        }

        /** The side, in screen pixels, of the square each panel is scaled into (default 112). */
        public Builder cell(int pixels) {
            if (pixels < 8) {
                throw new IllegalArgumentException("cell must be >= 8 pixels, got " + pixels);
            }
            this.cell = pixels;
            return this;
        }

        /** A line of explanation under the grid (what the colours mean). */
        public Builder note(String note) {
            this.note = note;
            return this;
        }

        /** Draws the grid into {@code png}. */
        public Path write(Path png) throws IOException {
            if (rows.isEmpty()) {
                throw new IllegalArgumentException("no rows to draw in " + png);
            }
            return new ImagePanels(this).draw(png);
        }
    }

    private static final int GAP = 10;
    private static final int CAPTION_LINE = 14;

    private Path draw(Path png) throws IOException {
        Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 16);
        Font textFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        FontMetrics fm = pg.getFontMetrics(textFont);
        int labelWidth = 0;
        for (String l : labels) {
            for (String line : l.split("\n")) {
                labelWidth = Math.max(labelWidth, fm.stringWidth(line));
            }
        }
        int textWidth = pg.getFontMetrics(titleFont).stringWidth(title);
        if (note != null) {
            textWidth = Math.max(textWidth, fm.stringWidth(note));
        }
        pg.dispose();
        int captionLines = 1;
        int columnsCount = 0;
        for (List<Panel> r : rows) {
            columnsCount = Math.max(columnsCount, r.size());
            for (Panel p : r) {
                captionLines = Math.max(captionLines, p.caption() == null ? 0 : p.caption().split("\n").length);
            }
        }
        int left = GAP + labelWidth + GAP;
        int top = 34 + (columns.isEmpty() ? 0 : CAPTION_LINE + 6);
        int rowHeight = cell + captionLines * CAPTION_LINE + GAP;
        int width = Math.max(left + columnsCount * (cell + GAP) + GAP, 2 * GAP + textWidth);
        int height = top + rows.size() * rowHeight + (note == null ? GAP : 2 * CAPTION_LINE);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(titleFont);
        g.drawString(title, GAP, 22);
        g.setFont(textFont);
        for (int c = 0; c < columns.size(); c++) {
            g.drawString(columns.get(c), left + c * (cell + GAP), top - 8);
        }
        for (int r = 0; r < rows.size(); r++) {
            int y0 = top + r * rowHeight;
            String[] labelLines = labels.get(r).split("\n");
            for (int i = 0; i < labelLines.length; i++) {
                g.drawString(labelLines[i], GAP, y0 + cell / 2 - (labelLines.length - 1) * CAPTION_LINE / 2 + i * CAPTION_LINE);
            }
            List<Panel> panels = rows.get(r);
            for (int c = 0; c < panels.size(); c++) {
                Panel p = panels.get(c);
                int x0 = left + c * (cell + GAP);
                paint(g, p, x0, y0);
                if (p.caption() != null) {
                    String[] lines = p.caption().split("\n");
                    for (int i = 0; i < lines.length; i++) {
                        g.setColor(Color.BLACK);
                        g.drawString(lines[i], x0, y0 + cell + CAPTION_LINE * (i + 1) - 2);
                    }
                }
            }
        }
        if (note != null) {
            g.setColor(Color.DARK_GRAY);
            g.drawString(note, GAP, height - CAPTION_LINE + 4);
        }
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
        return png;
    }

    /** The panel scaled by a whole factor into the cell at (x0, y0), centred, with a thin frame. */
    private void paint(Graphics2D g, Panel p, int x0, int y0) {
        int scale = Math.max(1, Math.min(cell / p.height(), cell / p.width()));
        int w = p.width() * scale;
        int h = p.height() * scale;
        int ox = x0 + (cell - w) / 2;
        int oy = y0 + (cell - h) / 2;
        int plane = p.height() * p.width();
        for (int y = 0; y < p.height(); y++) {
            for (int x = 0; x < p.width(); x++) {
                int i = y * p.width() + x;
                Color colour;
                if (p.channels() == 3) {
                    colour = new Color(level(p, p.pixels()[i]), level(p, p.pixels()[plane + i]), level(p, p.pixels()[2 * plane + i]));
                } else {
                    colour = colour(p.map(), unit(p, p.pixels()[i]));
                }
                if (p.marked() != null && p.marked()[i]) {
                    // A red tint over the value, so what was under the mark still shows.
                    colour = new Color((colour.getRed() + 3 * 230) / 4, (colour.getGreen() + 3 * 30) / 4, (colour.getBlue() + 3 * 30) / 4);
                }
                g.setColor(colour);
                g.fillRect(ox + x * scale, oy + y * scale, scale, scale);
            }
        }
        g.setColor(Color.LIGHT_GRAY);
        g.drawRect(ox - 1, oy - 1, w + 1, h + 1);
    }

    private static float unit(Panel p, float v) {
        float t = (v - p.low()) / (p.high() - p.low());
        return Float.isNaN(t) ? 0 : Math.max(0, Math.min(1, t));
    }

    private static int level(Panel p, float v) {
        return Math.round(255 * unit(p, v));
    }

    /** {@code t} in [0, 1] through the map. */
    static Color colour(ColourMap map, float t) {
        return switch (map) {
            case GREY -> {
                int v = Math.round(255 * t);
                yield new Color(v, v, v);
            }
            case DIVERGING -> {
                // Blue (t = 0) to white (t = 0.5) to red (t = 1).
                float d = Math.abs(t - 0.5f) * 2;
                int fade = Math.round(255 * (1 - d));
                yield t < 0.5f ? new Color(fade, fade, 255) : new Color(255, fade, fade);
            }
            case HEAT -> {
                // Black to red over the first third, red to yellow over the second, yellow to pale over the last.
                float r = Math.min(1, 3 * t);
                float gr = Math.max(0, Math.min(1, 3 * t - 1));
                float b = Math.max(0, Math.min(1, 3 * t - 2)) * 0.8f;
                yield new Color(Math.round(255 * r), Math.round(255 * gr), Math.round(255 * b));
            }
        };
    }
}
