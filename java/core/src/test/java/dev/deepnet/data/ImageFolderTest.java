package dev.deepnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image folders of tiny generated images: classes, labels, shapes, exact pixel values, and refusals. */
class ImageFolderTest {

    @TempDir
    Path dir;

    private static final float[] MEAN = ImageFolder.imagenetMean();
    private static final float[] STD = ImageFolder.imagenetStd();
    private static final float[] NO_MEAN = {0, 0, 0};
    private static final float[] UNIT_STD = {1, 1, 1};

    /** A solid image of {@code type} (e.g. RGB, ARGB, gray) in {@code color}. */
    private static BufferedImage solid(int w, int h, int type, Color color) {
        BufferedImage image = new BufferedImage(w, h, type);
        Graphics2D g = image.createGraphics();
        g.setColor(color);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return image;
    }

    private static Path save(BufferedImage image, String format, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(image, format, file.toFile()), "no writer for " + format);
        return file;
    }

    /** A gray image whose samples are {@code value} (set on the raster, no colour conversion). */
    private static BufferedImage gray(int w, int h, int value) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        int[] samples = new int[w * h];
        Arrays.fill(samples, value);
        image.getRaster().setPixels(0, 0, w, h, samples);
        return image;
    }

    /** What a channel byte value becomes after ImageNet normalisation. */
    private static float normalised(int value, int channel) {
        return (value / 255f - MEAN[channel]) / STD[channel];
    }

    /** Checks every value of every channel of sample {@code i} (3, crop, crop). */
    private static void assertSolid(float[] inputs, int i, int crop, float[] expected, float tolerance, String what) {
        int plane = crop * crop;
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < plane; p++) {
                float v = inputs[i * 3 * plane + c * plane + p];
                if (Math.abs(v - expected[c]) > tolerance) {
                    throw new AssertionError(what + ": channel " + c + " pixel " + p + " is " + v + ", expected " + expected[c]);
                }
            }
        }
    }

    /** Three classes in every format, plus files the loader must ignore. */
    private Path folder() throws IOException {
        Path root = dir.resolve("root");
        save(solid(8, 6, BufferedImage.TYPE_INT_RGB, Color.RED), "png", root.resolve("red/a.png"));
        save(solid(37, 23, BufferedImage.TYPE_INT_ARGB, Color.RED), "png", root.resolve("red/b.PNG"));
        save(solid(16, 16, BufferedImage.TYPE_INT_RGB, Color.RED), "jpg", root.resolve("red/deeper/c.jpeg"));
        save(gray(5, 9, 128), "png", root.resolve("gray/g.png"));
        save(gray(12, 12, 200), "jpg", root.resolve("gray/h.jpg"));
        save(solid(10, 10, BufferedImage.TYPE_INT_RGB, Color.BLUE), "bmp", root.resolve("blue/x.bmp"));
        save(solid(9, 11, BufferedImage.TYPE_INT_RGB, Color.BLUE), "gif", root.resolve("blue/y.gif"));
        // ignored: other extensions, hidden files and folders, files beside the class folders
        Files.writeString(root.resolve("README.txt"), "three classes");
        Files.writeString(root.resolve("red/notes.txt"), "not an image");
        Files.write(root.resolve("red/.DS_Store"), new byte[] {1, 2, 3});
        Files.write(root.resolve("red/._a.png"), new byte[] {1, 2, 3});
        save(solid(8, 8, BufferedImage.TYPE_INT_RGB, Color.GREEN), "png", root.resolve("red/.ipynb_checkpoints/a.png"));
        save(solid(8, 8, BufferedImage.TYPE_INT_RGB, Color.GREEN), "png", root.resolve(".hidden/a.png"));
        return root;
    }

    @Test
    void loadsClassesLabelsShapesAndNormalisedPixels() throws IOException {
        Path root = folder();
        try (ImageFolder f = ImageFolder.load(root, 6, 4)) {
            assertEquals(List.of("blue", "gray", "red"), f.classes());
            Dataset d = f.dataset();
            assertEquals(7, d.size());
            assertEquals(Shape.of(7, 3, 4, 4), d.inputs().shape());
            assertEquals(Shape.of(7, 3), d.targets().shape());
            assertArrayEquals(new int[] {0, 0, 1, 1, 2, 2, 2}, d.labels());
            assertEquals(List.of(root.resolve("blue/x.bmp"), root.resolve("blue/y.gif"), root.resolve("gray/g.png"),
                    root.resolve("gray/h.jpg"), root.resolve("red/a.png"), root.resolve("red/b.PNG"),
                    root.resolve("red/deeper/c.jpeg")), f.files());
            assertEquals(List.of(), f.skipped());
            assertEquals(0, f.skippedCount());

            float[] x = d.inputs().toArray();
            float[] red = {normalised(255, 0), normalised(0, 1), normalised(0, 2)};
            assertEquals((1 - 0.485f) / 0.229f, red[0], 1e-6f);
            assertEquals((0 - 0.456f) / 0.224f, red[1], 1e-6f);
            assertEquals((0 - 0.406f) / 0.225f, red[2], 1e-6f);
            float[] blue = {normalised(0, 0), normalised(0, 1), normalised(255, 2)};
            assertSolid(x, 0, 4, blue, 1e-6f, "bmp");
            assertSolid(x, 1, 4, blue, 1e-6f, "gif");
            assertSolid(x, 2, 4, new float[] {normalised(128, 0), normalised(128, 1), normalised(128, 2)}, 1e-6f,
                    "gray png: 128 in every channel");
            assertSolid(x, 3, 4, new float[] {normalised(200, 0), normalised(200, 1), normalised(200, 2)}, 2 / 255f / 0.224f,
                    "gray jpeg");
            assertSolid(x, 4, 4, red, 1e-6f, "png upscaled 6x8 -> 6x8");
            assertSolid(x, 5, 4, red, 1e-6f, "argb png 37x23 -> 9x6");
            assertSolid(x, 6, 4, red, 4 / 255f / 0.224f, "jpeg 16x16 -> 6x6 (lossy)");
        }
    }

    @Test
    void preprocessKeepsLeftRightAndTopBottomInChannelRowColumnOrder() throws IOException {
        // 40 x 20, left half red, right half blue: shorter side 20 -> 10 makes it 20 x 10; the centre
        // 10 x 10 is columns 5..14, half red, half blue
        BufferedImage wide = solid(40, 20, BufferedImage.TYPE_INT_RGB, Color.RED);
        Graphics2D g = wide.createGraphics();
        g.setColor(Color.BLUE);
        g.fillRect(20, 0, 20, 20);
        g.dispose();
        float[] x = ImageFolder.preprocess(save(wide, "png", dir.resolve("wide.png")), 10, 10, NO_MEAN, UNIT_STD);
        assertEquals(3 * 10 * 10, x.length);
        for (int row = 0; row < 10; row++) {
            for (int col = 0; col < 10; col++) {
                float r = x[row * 10 + col];
                float b = x[200 + row * 10 + col];
                assertEquals(0f, x[100 + row * 10 + col], "green at " + row + "," + col);
                assertEquals(col < 5 ? 1f : 0f, r, 1e-6f, "red at " + row + "," + col);
                assertEquals(col < 5 ? 0f : 1f, b, 1e-6f, "blue at " + row + "," + col);
            }
        }
        // 20 x 40, top green, bottom white: rows come first within a channel
        BufferedImage tall = solid(20, 40, BufferedImage.TYPE_INT_RGB, Color.GREEN);
        g = tall.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 20, 20, 20);
        g.dispose();
        x = ImageFolder.preprocess(save(tall, "png", dir.resolve("tall.png")), 10, 8, NO_MEAN, UNIT_STD);
        assertEquals(3 * 8 * 8, x.length);
        assertEquals(0f, x[0], "red of the top-left pixel (green)");
        assertEquals(1f, x[64], "green of the top-left pixel");
        assertEquals(1f, x[7 * 8], "red of the bottom-left pixel (white)");
        assertEquals(1f, x[128 + 63], "blue of the bottom-right pixel (white)");
    }

    @Test
    void shrinkingAveragesAreasRatherThanSamplingPoints() throws IOException {
        // one white pixel in every 8 x 8 block, shrunk 8 times: every pixel is 1/64 white; sampling
        // points (one bilinear step) would miss the dots and give black
        BufferedImage dots = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y += 8) {
            for (int x = 0; x < 64; x += 8) {
                dots.setRGB(x, y, 0xffffff);
            }
        }
        float[] v = ImageFolder.preprocess(save(dots, "png", dir.resolve("dots.png")), 8, 8, NO_MEAN, UNIT_STD);
        for (float value : v) {
            assertEquals(1 / 64f, value, 1.01f / 255f);
        }
    }

    @Test
    void anExtremeAspectRatioDoesNotAllocateTheWholeScaledImage() throws IOException {
        // 2 x 4000 scaled to a shorter side of 1000 would be 1000 x 2,000,000 pixels (8 GB)
        Path thin = save(solid(2, 4000, BufferedImage.TYPE_INT_RGB, Color.WHITE), "png", dir.resolve("thin.png"));
        float[] x = ImageFolder.preprocess(thin, 1000, 4, NO_MEAN, UNIT_STD);
        assertSolid(x, 0, 4, new float[] {1, 1, 1}, 1e-6f, "white");
    }

    @Test
    void anUnreadableImageIsAnErrorNamingItOrSkippedAndCounted() throws IOException {
        Path root = folder();
        byte[] noise = new byte[200];
        new Random(1).nextBytes(noise);
        Path broken = Files.write(root.resolve("gray/broken.png"), noise);
        byte[] png = Files.readAllBytes(root.resolve("red/b.PNG"));
        Path truncated = Files.write(root.resolve("red/truncated.png"), Arrays.copyOf(png, png.length / 2));

        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFolder.load(root, 6, 4));
        assertEquals(broken, e.file());
        assertTrue(e.getMessage().startsWith(broken + ": unreadable image: no ImageIO reader recognises its content"),
                e.getMessage());
        DataFormatException t = assertThrows(DataFormatException.class,
                () -> ImageFolder.preprocess(truncated, 6, 4, MEAN, STD));
        assertTrue(t.getMessage().startsWith(truncated + ": unreadable image: "), t.getMessage());

        try (ImageFolder f = ImageFolder.load(root, 6, 4, MEAN, STD, true)) {
            assertEquals(List.of(broken, truncated), f.skipped());
            assertEquals(2, f.skippedCount());
            assertEquals(7, f.dataset().size());
            assertEquals(Shape.of(7, 3, 4, 4), f.dataset().inputs().shape());
            assertArrayEquals(new int[] {0, 0, 1, 1, 2, 2, 2}, f.dataset().labels());
            assertTrue(!f.files().contains(broken) && !f.files().contains(truncated));
            assertSolid(f.dataset().inputs().toArray(), 6, 4,
                    new float[] {normalised(255, 0), normalised(0, 1), normalised(0, 2)}, 4 / 255f / 0.224f, "last sample");
        }
    }

    @Test
    void noReadableImageAtAllIsAnError() throws IOException {
        Path root = dir.resolve("root");
        Files.createDirectories(root.resolve("a"));
        Files.write(root.resolve("a/x.jpg"), new byte[] {1, 2, 3});
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> ImageFolder.load(root, 6, 4, MEAN, STD, true));
        assertTrue(e.getMessage().startsWith(root + ": none of the 1 images could be read"), e.getMessage());
    }

    @Test
    void missingClassFoldersAndEmptyClassesAreErrors() throws IOException {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("README.txt"), "no classes here");
        Files.createDirectories(root.resolve(".git"));
        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFolder.load(root, 6, 4));
        assertTrue(e.getMessage().startsWith(root + ": no class folders; expected one sub-folder per class"),
                e.getMessage());

        save(solid(4, 4, BufferedImage.TYPE_INT_RGB, Color.RED), "png", root.resolve("cat/1.png"));
        Path dog = Files.createDirectories(root.resolve("dog"));
        Files.writeString(dog.resolve("notes.txt"), "only text");
        e = assertThrows(DataFormatException.class, () -> ImageFolder.load(root, 6, 4));
        assertEquals(dog, e.file());
        assertTrue(e.getMessage().startsWith(dog + ": class folder 'dog' holds no images (png, jpg, jpeg, bmp, gif)"),
                e.getMessage());

        Path absent = dir.resolve("absent");
        e = assertThrows(DataFormatException.class, () -> ImageFolder.load(absent, 6, 4));
        assertTrue(e.getMessage().startsWith(absent + ": not a directory"), e.getMessage());
    }

    @Test
    void badPreprocessingArgumentsAreRefused() throws IOException {
        Path image = save(solid(4, 4, BufferedImage.TYPE_INT_RGB, Color.RED), "png", dir.resolve("a.png"));
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.preprocess(image, 4, 5, MEAN, STD));
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.preprocess(image, 0, 0, MEAN, STD));
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.preprocess(image, 4, 4, new float[2], STD));
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.preprocess(image, 4, 4, MEAN, new float[] {1, 0, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> ImageFolder.preprocess(image, 4, 4, new float[] {Float.NaN, 0, 0}, STD));
    }
}
