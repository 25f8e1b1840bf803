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
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A PNG of small images in rows and columns, each with a caption under it: originals,
 * perturbations, masks, heat maps. Each image is a {@link Cell}: a width, a height and a colour
 * per pixel, made from values through a {@link ColorMap} (grey, diverging, heat), from RGB planes,
 * or as a heat map laid over a grey image. Pixels are drawn as blocks of {@link Builder#scale}
 * screen pixels (nearest neighbour: what the net saw, unsmoothed).
 *
 * <pre>{@code
 * ImageGrid.builder("Adversarial examples").columns("original", "perturbation x10", "adversarial")
 *         .row("Sandal", ImageGrid.grey(x, 28, 28, "Sandal 0.99"),
 *                 ImageGrid.values(delta, 28, 28, ImageGrid.diverging(0.1), "L-inf 0.05"),
 *                 ImageGrid.grey(adv, 28, 28, "Sneaker 0.97"))
 *         .write(dir.resolve("adversarial.png"));
 * }</pre>
 */
public final class ImageGrid {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Maps a value to a colour (values outside the map's range take the nearest end). */
    @FunctionalInterface
    public interface ColorMap {
        Color color(double value);
    }

    /** The colour of each pixel of an image. */
    @FunctionalInterface
    public interface Pixels {
        Color at(int x, int y);
    }

    /** One image of the grid: {@code width x height} pixels and a caption (may hold several lines, '\n'). */
    public record Cell(int width, int height, Pixels pixels, String caption) {
        public Cell {
            if (width < 1 || height < 1) {
                throw new IllegalArgumentException("an image needs a positive width and height, got " + width + "x" + height);
            }
            caption = caption == null ? "" : caption;
        }
    }

    /** Black at {@code black}, white at {@code white}, grey between. */
    public static ColorMap grey(double black, double white) {
        return v -> {
            int g = level((v - black) / (white - black));
            return new Color(g, g, g);
        };
    }

    /**
     * Symmetric about 0: blue for -limit, white for 0, red for +limit. For perturbations and
     * signed differences; {@code limit} sets the amplification (a perturbation of 0.01 drawn with
     * limit 0.02 shows at half strength).
     */
    public static ColorMap diverging(double limit) {
        if (!(limit > 0)) {
            throw new IllegalArgumentException("a diverging colour map needs a limit > 0, got " + limit);
        }
        return v -> {
            double t = Math.max(-1, Math.min(1, v / limit));
            int fade = level(1 - Math.abs(t));
            return t >= 0 ? new Color(255, fade, fade) : new Color(fade, fade, 255);
        };
    }

    /** Black at {@code low} through red and yellow to white at {@code high}: for importance and sensitivity maps. */
    public static ColorMap heat(double low, double high) {
        return v -> {
            double t = Math.max(0, Math.min(1, (v - low) / (high - low)));
            return new Color(level(3 * t), level(3 * t - 1), level(3 * t - 2));
        };
    }

    private static int level(double t) {
        if (Double.isNaN(t)) {
            return 0;
        }
        return (int) Math.round(255 * Math.max(0, Math.min(1, t)));
    }

    /** A grey image with pixels in [0, 1] (0 black), row-major {@code height x width}. */
    public static Cell grey(float[] pixels, int width, int height, String caption) {
        return values(pixels, width, height, grey(0, 1), caption);
    }

    /** Any single-channel image, row-major {@code height x width}, coloured by {@code colors}. */
    public static Cell values(float[] pixels, int width, int height, ColorMap colors, String caption) {
        checkLength(pixels, width, height, 1);
        float[] p = pixels.clone();
        return new Cell(width, height, (x, y) -> colors.color(p[y * width + x]), caption);
    }

    /** A colour image as three planes (C, H, W) of red, green and blue in [low, high]. */
    public static Cell rgb(float[] planes, int width, int height, double low, double high, String caption) {
        checkLength(planes, width, height, 3);
        float[] p = planes.clone();
        int plane = width * height;
        return new Cell(width, height, (x, y) -> new Color(level((p[y * width + x] - low) / (high - low)),
                level((p[plane + y * width + x] - low) / (high - low)), level((p[2 * plane + y * width + x] - low) / (high - low))), caption);
    }

    /**
     * A heat map laid over a grey image: each pixel mixes the grey ({@code weight 1 - alpha}) with
     * the map's colour ({@code alpha}). Both row-major {@code height x width}; the grey in [0, 1].
     */
    public static Cell overlay(float[] grey, float[] values, int width, int height, ColorMap colors, double alpha, String caption) {
        checkLength(grey, width, height, 1);
        checkLength(values, width, height, 1);
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("overlay alpha must be in [0, 1], got " + alpha);
        }
        float[] g = grey.clone();
        float[] v = values.clone();
        ColorMap base = grey(0, 1);
        return new Cell(width, height, (x, y) -> {
            Color a = base.color(g[y * width + x]);
            Color b = colors.color(v[y * width + x]);
            return new Color((int) Math.round((1 - alpha) * a.getRed() + alpha * b.getRed()),
                    (int) Math.round((1 - alpha) * a.getGreen() + alpha * b.getGreen()),
                    (int) Math.round((1 - alpha) * a.getBlue() + alpha * b.getBlue()));
        }, caption);
    }

    private static void checkLength(float[] pixels, int width, int height, int channels) {
        if (width < 1 || height < 1 || pixels.length != (long) width * height * channels) {
            throw new IllegalArgumentException("an image of " + width + "x" + height + (channels == 1 ? "" : "x" + channels)
                    + " needs " + (long) width * height * channels + " values, got " + pixels.length);
        }
    }

    public static Builder builder(String title) {
        return new Builder(title);
    }

    /** Rows of cells; rows may differ in length. */
    public static final class Builder {
        private final String title;
        private final List<String> notes = new ArrayList<>();
        private List<String> columns = List.of();
        private final List<String> rowLabels = new ArrayList<>();
        private final List<List<Cell>> rows = new ArrayList<>();
        private int scale = 4;

        private Builder(String title) {
            this.title = title;
        }

        /** Headers over the columns. */
        public Builder columns(String... headers) {
            columns = List.of(headers);
            return this;
        }

        /** A line of text under the title (a legend: what the colours mean). */
        public Builder note(String line) {
            notes.add(line);
            return this;
        }

        /** Screen pixels per image pixel (default 4: a 28x28 image is drawn 112x112). */
        public Builder scale(int scale) {
            if (scale < 1) {
                throw new IllegalArgumentException("scale must be >= 1, got " + scale);
            }
            this.scale = scale;
            return this;
        }

        /** A row of images with a label on its left (may be empty, or hold several lines, '\n'). */
        public Builder row(String label, Cell... cells) {
            return row(label, Arrays.asList(cells));
        }

        public Builder row(String label, List<Cell> cells) {
            if (cells.isEmpty()) {
                throw new IllegalArgumentException("a row needs at least one image");
            }
            rowLabels.add(label == null ? "" : label);
            rows.add(List.copyOf(cells));
            return this;
        }

        /** Draws the grid into {@code png} (folders created). */
        public void write(Path png) throws IOException {
            if (rows.isEmpty()) {
                throw new IllegalStateException("an image grid needs at least one row");
            }
            BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
            Graphics2D pg = probe.createGraphics();
            Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 16);
            Font textFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
            FontMetrics text = pg.getFontMetrics(textFont);
            int line = text.getHeight();
            int pad = 10;
            int columnCount = Math.max(columns.size(), rows.stream().mapToInt(List::size).max().orElse(0));
            int[] colWidth = new int[columnCount];
            for (int c = 0; c < columns.size(); c++) {
                colWidth[c] = text.stringWidth(columns.get(c));
            }
            int[] rowHeight = new int[rows.size()];
            int labelWidth = 0;
            for (int r = 0; r < rows.size(); r++) {
                String[] labelLines = lines(rowLabels.get(r));
                for (String s : labelLines) {
                    labelWidth = Math.max(labelWidth, text.stringWidth(s));
                }
                int captionLines = 0;
                int imageHeight = 0;
                for (int c = 0; c < rows.get(r).size(); c++) {
                    Cell cell = rows.get(r).get(c);
                    colWidth[c] = Math.max(colWidth[c], cell.width() * scale);
                    String[] lines = lines(cell.caption());
                    for (String s : lines) {
                        colWidth[c] = Math.max(colWidth[c], text.stringWidth(s));
                    }
                    captionLines = Math.max(captionLines, lines.length);
                    imageHeight = Math.max(imageHeight, cell.height() * scale);
                }
                rowHeight[r] = Math.max(imageHeight + captionLines * line, labelLines.length * line) + pad;
            }
            int left = pad + (labelWidth > 0 ? labelWidth + pad : 0);
            int top = pad + 22 + notes.size() * line + (columns.isEmpty() ? 0 : line + 4);
            int width = left + Arrays.stream(colWidth).sum() + pad * columnCount;
            width = Math.max(width, 2 * pad + pg.getFontMetrics(titleFont).stringWidth(title));
            for (String note : notes) {
                width = Math.max(width, 2 * pad + text.stringWidth(note));
            }
            int height = top + Arrays.stream(rowHeight).sum() + pad;
            pg.dispose();
            BufferedImage img = new BufferedImage(Math.max(width, 320), height, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            g.setColor(Color.BLACK);
            g.setFont(titleFont);
            g.drawString(title, pad, pad + 14);
            g.setFont(textFont);
            int y = pad + 22;
            for (String note : notes) {
                g.drawString(note, pad, y + text.getAscent());
                y += line;
            }
            int x = left;
            for (int c = 0; c < columns.size(); c++) {
                g.drawString(columns.get(c), x + (colWidth[c] - text.stringWidth(columns.get(c))) / 2, y + text.getAscent());
                x += colWidth[c] + pad;
            }
            y = top;
            for (int r = 0; r < rows.size(); r++) {
                g.setColor(Color.BLACK);
                int ly = y;
                for (String s : lines(rowLabels.get(r))) {
                    g.drawString(s, pad, ly + text.getAscent());
                    ly += line;
                }
                x = left;
                for (int c = 0; c < rows.get(r).size(); c++) {
                    Cell cell = rows.get(r).get(c);
                    int w = cell.width() * scale;
                    int x0 = x + (colWidth[c] - w) / 2;
                    for (int py = 0; py < cell.height(); py++) {
                        for (int px = 0; px < cell.width(); px++) {
                            g.setColor(cell.pixels().at(px, py));
                            g.fillRect(x0 + px * scale, y + py * scale, scale, scale);
                        }
                    }
                    g.setColor(Color.LIGHT_GRAY);
                    g.drawRect(x0 - 1, y - 1, w + 1, cell.height() * scale + 1);
                    g.setColor(Color.BLACK);
                    int ty = y + cell.height() * scale + 2;
                    for (String s : lines(cell.caption())) {
                        g.drawString(s, x + (colWidth[c] - text.stringWidth(s)) / 2, ty + text.getAscent());
                        ty += line;
                    }
                    x += colWidth[c] + pad;
                }
                y += rowHeight[r];
            }
            g.dispose();
            Files.createDirectories(png.toAbsolutePath().getParent());
            ImageIO.write(img, "png", png.toFile());
        }

        private static String[] lines(String caption) {
            return caption.isEmpty() ? new String[0] : caption.split("\n");
        }
    }
}
