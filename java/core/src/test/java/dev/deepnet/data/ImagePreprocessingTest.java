package dev.deepnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagePreprocessingTest {

    static BufferedImage grey(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, (x * 7 + y * 13) % 256);
            }
        }
        return img;
    }

    static BufferedImage filled(int w, int h, Color c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    @Test
    void aGreyImageOfTheModelsSizeIsTakenAsItIsPixelOver255() {
        BufferedImage img = grey(28, 28);
        ImagePreprocessing.Prepared p = ImagePreprocessing.grey(28, 28).apply(img);
        assertEquals(List.of(), p.conversions());
        assertEquals(784, p.sample().length);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                assertEquals(img.getRaster().getSample(x, y, 0) / 255f, p.sample()[y * 28 + x], "pixel " + x + ", " + y);
            }
        }
        float[] inverted = ImagePreprocessing.grey(28, 28).inverted(true).apply(img).sample();
        assertEquals(1 - p.sample()[5], inverted[5], 1e-7);
    }

    @Test
    void aColourImageOfAnotherSizeIsConvertedAndSaysSo() {
        ImagePreprocessing.Prepared p = ImagePreprocessing.grey(28, 28).apply(filled(640, 480, new Color(200, 100, 50)));
        assertEquals(List.of("converted colour to grey", "resized 640x480 to 28x28 (shorter side to 28, centre crop)"), p.conversions());
        int luma = (19595 * 200 + 38470 * 100 + 7471 * 50 + (1 << 15)) >> 16;
        assertEquals(luma / 255f, p.sample()[14 * 28 + 14], 1e-6, "the luma of a flat colour survives resizing");

        ImagePreprocessing rgb = ImagePreprocessing.of(3, 6, 6, 6, new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.25f, 0.5f, 1});
        ImagePreprocessing.Prepared q = rgb.apply(grey(6, 6));
        assertEquals(List.of("converted grey to RGB"), q.conversions(), "of the model's size: only the colours change");
        float v = grey(6, 6).getRaster().getSample(1, 0, 0) / 255f;
        assertEquals((v - 0.5f) / 0.25f, q.sample()[1]);
        assertEquals((v - 0.5f) / 0.5f, q.sample()[36 + 1]);
        assertEquals((v - 0.5f) / 1f, q.sample()[72 + 1]);
        // A rectangular input is scaled to cover resize x resize first, so even an image of its size is resized.
        assertEquals(2, ImagePreprocessing.of(3, 4, 6, 6, new float[3], new float[] {1, 1, 1}).apply(grey(6, 4)).conversions().size());
    }

    @Test
    void aPreprocessingThatRefusesSaysWhatTheModelTakes() {
        ImagePreprocessing refuse = ImagePreprocessing.grey(28, 28).withMismatch(ImagePreprocessing.Mismatch.REFUSE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> refuse.apply(filled(640, 480, Color.RED)));
        assertEquals("the image is 640x480 colour but the model takes 28x28 grey images, and its preprocessing refuses others"
                + " (mismatch: refuse)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> refuse.apply(grey(28, 27)));
        assertEquals(List.of(), refuse.apply(grey(28, 28)).conversions());
    }

    @Test
    void aSubImageIsReadWhereItIs(@TempDir Path dir) throws Exception {
        BufferedImage big = filled(40, 40, Color.BLACK);
        big.setRGB(10, 10, 0xffffff);
        BufferedImage sub = big.getSubimage(10, 10, 4, 4);
        ImagePreprocessing p = ImagePreprocessing.of(3, 4, 4, 4, new float[3], new float[] {1, 1, 1});
        assertEquals(1f, p.apply(sub).sample()[0], "the sub-image's first pixel, not the parent's");
        Path png = dir.resolve("a.png");
        ImageIO.write(big, "png", png.toFile());
        assertEquals(List.of("resized 40x40 to 4x4 (shorter side to 4, centre crop)"), p.apply(png).conversions());
        DataFormatException bad = assertThrows(DataFormatException.class, () -> p.apply(dir.resolve("missing.png")));
        assertTrue(bad.getMessage().contains("missing.png"), bad.getMessage());
    }

    @Test
    void encodedBytesAreReadLikeTheFileWithinTheSameLimits(@TempDir Path dir) throws Exception {
        ImagePreprocessing p = ImagePreprocessing.grey(28, 28);
        BufferedImage photo = filled(64, 48, new Color(200, 40, 90));
        Path png = dir.resolve("photo.png");
        ImageIO.write(photo, "png", png.toFile());
        ImagePreprocessing.Prepared fromFile = p.apply(png);
        ImagePreprocessing.Prepared fromBytes = p.apply(java.nio.file.Files.readAllBytes(png), "request", DataLimits.defaults());
        assertArrayEquals(fromFile.sample(), fromBytes.sample());
        assertEquals(fromFile.conversions(), fromBytes.conversions());
        byte[] jpeg = DecompressionBombs.encoded(photo, "jpeg");
        assertEquals(28 * 28, p.apply(jpeg, "request", DataLimits.defaults()).sample().length);

        DataFormatException bomb = assertThrows(DataFormatException.class,
                () -> p.apply(DecompressionBombs.pngDeclaring(20_000, 20_000), "request", DataLimits.defaults().withMaxImagePixels(1 << 20)));
        assertTrue(bomb.getMessage().startsWith("request: ") && bomb.getMessage().contains("refused before decoding"), bomb.getMessage());
        DataFormatException junk = assertThrows(DataFormatException.class,
                () -> p.apply("not an image".getBytes(java.nio.charset.StandardCharsets.US_ASCII), "request", DataLimits.defaults()));
        assertTrue(junk.getMessage().contains("request: unreadable image"), junk.getMessage());
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> p.withMismatch(ImagePreprocessing.Mismatch.REFUSE)
                .apply(java.nio.file.Files.readAllBytes(png), "request", DataLimits.defaults()));
        assertTrue(refused.getMessage().startsWith("request: the image is 64x48 colour"), refused.getMessage());
    }

    @Test
    void defaultsFollowTheSampleShapeAndBadSettingsAreRefused() {
        assertEquals(Optional.of(ImagePreprocessing.grey(28, 28)), ImagePreprocessing.defaultFor(Shape.of(1, 28, 28)));
        ImagePreprocessing alex = ImagePreprocessing.defaultFor(Shape.of(3, 227, 227)).orElseThrow();
        assertEquals(256, alex.resize());
        assertEquals(Shape.of(3, 227, 227), alex.sampleShape());
        assertEquals(Optional.empty(), ImagePreprocessing.defaultFor(Shape.of(16)));
        assertEquals(Optional.empty(), ImagePreprocessing.defaultFor(Shape.of(2, 8, 8)));
        assertThrows(IllegalArgumentException.class, () -> ImagePreprocessing.of(2, 4, 4, 4, new float[2], new float[] {1, 1}));
        assertThrows(IllegalArgumentException.class, () -> ImagePreprocessing.of(1, 4, 4, 3, new float[1], new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> ImagePreprocessing.of(1, 4, 4, 4, new float[1], new float[] {0}));
        assertThrows(IllegalArgumentException.class, () -> ImagePreprocessing.of(3, 4, 4, 4, new float[1], new float[] {1}));
    }
}
