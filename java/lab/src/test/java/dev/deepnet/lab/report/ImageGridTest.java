package dev.deepnet.lab.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageGridTest {

    @Test
    void colourMapsGoFromEndToEnd() {
        assertEquals(Color.BLACK, ImageGrid.grey(0, 1).color(0));
        assertEquals(Color.WHITE, ImageGrid.grey(0, 1).color(1));
        assertEquals(Color.WHITE, ImageGrid.grey(0, 1).color(7), "values beyond the range take the nearest end");
        assertEquals(new Color(255, 0, 0), ImageGrid.diverging(0.1).color(0.1));
        assertEquals(new Color(0, 0, 255), ImageGrid.diverging(0.1).color(-0.3));
        assertEquals(Color.WHITE, ImageGrid.diverging(0.1).color(0));
        assertEquals(new Color(255, 128, 128), ImageGrid.diverging(0.1).color(0.05), "half the limit, half the colour");
        assertEquals(Color.BLACK, ImageGrid.heat(0, 2).color(0));
        assertEquals(Color.WHITE, ImageGrid.heat(0, 2).color(2));
        assertEquals(new Color(255, 0, 0), ImageGrid.heat(0, 3).color(1));
    }

    /** Each image pixel is a block of scale x scale screen pixels in its colour; the picture holds every row. */
    @Test
    void cellsAreDrawnAsBlocksOfTheirColours(@TempDir Path dir) throws Exception {
        float[] half = {0, 1, 1, 0}; // 2x2: black, white / white, black
        float[] signed = {0.1f, -0.1f, 0, 0};
        float[] rgb = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}; // 2x2 planes: red, green, blue, black
        Path png = dir.resolve("grid.png");
        ImageGrid.builder("A test grid").note("a note").columns("grey", "signed", "colour").scale(10)
                .row("first", ImageGrid.grey(half, 2, 2, "grey\ntwo lines"), ImageGrid.values(signed, 2, 2, ImageGrid.diverging(0.1), "signed"),
                        ImageGrid.rgb(rgb, 2, 2, 0, 1, "rgb"))
                .row("second", ImageGrid.overlay(new float[] {1, 1, 1, 1}, new float[] {0, 0, 0, 1}, 2, 2, ImageGrid.heat(0, 1), 1.0, "overlay"))
                .write(png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img.getWidth() >= 320 && img.getHeight() > 100, img.getWidth() + "x" + img.getHeight());
        int black = 0;
        int red = 0;
        int blue = 0;
        int green = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int c = img.getRGB(x, y) & 0xffffff;
                black += c == 0x000000 ? 1 : 0;
                red += c == 0xff0000 ? 1 : 0;
                blue += c == 0x0000ff ? 1 : 0;
                green += c == 0x00ff00 ? 1 : 0;
            }
        }
        // Blocks of 10x10: two black in the grey image and one in the colour one; red from the signed and colour images;
        // one blue from each; one green; and the overlay's fully hot corner is white. Text adds no pure colours but black.
        assertTrue(black >= 300, "black blocks: " + black);
        assertEquals(200, red);
        assertEquals(200, blue);
        assertEquals(100, green);
    }

    /** A label of several lines is drawn line under line, left of its row, and the row is tall enough to hold it. */
    @Test
    void rowLabelsMayHoldSeveralLines(@TempDir Path dir) throws Exception {
        Path one = dir.resolve("one.png");
        Path three = dir.resolve("three.png");
        ImageGrid.builder("t").scale(1).row("Sandal", ImageGrid.grey(new float[] {1}, 1, 1, "")).write(one);
        ImageGrid.builder("t").scale(1).row("Sandal\ntest #12\nthird", ImageGrid.grey(new float[] {1}, 1, 1, "")).write(three);
        BufferedImage a = ImageIO.read(one.toFile());
        BufferedImage b = ImageIO.read(three.toFile());
        assertTrue(b.getHeight() > a.getHeight() + 20, a.getHeight() + " vs " + b.getHeight() + ": the row grows to hold three lines");
        // Dark text in three bands of rows in the label column (left of the 1x1 image).
        int bands = 0;
        boolean inText = false;
        for (int y = 30; y < b.getHeight(); y++) {
            boolean dark = false;
            for (int x = 0; x < 40; x++) {
                dark |= (b.getRGB(x, y) & 0xff) < 128;
            }
            bands += dark && !inText ? 1 : 0;
            inText = dark;
        }
        assertEquals(3, bands, "three lines of label");
    }

    @Test
    void badImagesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.grey(new float[5], 2, 2, ""));
        assertTrue(e.getMessage().contains("an image of 2x2 needs 4 values, got 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.rgb(new float[4], 2, 2, 0, 1, ""));
        assertTrue(e.getMessage().contains("2x2x3 needs 12 values"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.diverging(0));
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.builder("t").row("empty"));
        assertThrows(IllegalStateException.class, () -> ImageGrid.builder("t").write(Path.of("never.png")));
    }
}
