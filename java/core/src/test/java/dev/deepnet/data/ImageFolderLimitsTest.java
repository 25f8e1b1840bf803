package dev.deepnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image decompression bombs (a 400 KB PNG of 20000 x 20000 pixels; JPEG and BMP headers
 * declaring billions) refused from their headers, undecoded; skipped and counted when asked;
 * the pixel limit just below a normal image refuses it, at its size passes it; past the limit,
 * the heap still bounds what is decoded.
 */
class ImageFolderLimitsTest {

    @TempDir
    Path dir;

    private static final float[] NO_MEAN = {0, 0, 0};
    private static final float[] UNIT_STD = {1, 1, 1};

    private Path write(String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }

    private static BufferedImage solid(int w, int h, Color color) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(color);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return image;
    }

    private static DataFormatException refused(Path image, DataLimits limits, String... fragments) {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> ImageFolder.preprocess(image, 4, 4, NO_MEAN, UNIT_STD, limits));
        IdxFileTest.assertMessage(e, image, fragments);
        return e;
    }

    @Test
    void theBombBuilderMakesValidPngs() throws IOException {
        // the bomb's construction (rows of zeros deflated once, repeated) at a size that may be decoded
        byte[] png = DecompressionBombs.pngOfZeros(64, 100);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(64, image.getWidth());
        assertEquals(100, image.getHeight());
        int[] samples = image.getRaster().getPixels(0, 0, 64, 100, (int[]) null);
        assertTrue(Arrays.stream(samples).allMatch(v -> v == 0), "all black");
        float[] x = ImageFolder.preprocess(write("zeros.png", png), 4, 4, NO_MEAN, UNIT_STD);
        assertArrayEquals(new float[3 * 4 * 4], x);
    }

    @Test
    void aPngOf20000x20000PixelsIsRefusedFromItsHeader() throws IOException {
        byte[] bytes = DecompressionBombs.pngOfZeros(20000, 20000);
        assertTrue(bytes.length < 500_000, "the bomb should be under 500 KB, is " + bytes.length);
        Path bomb = write("bomb.png", bytes);
        DataFormatException e = refused(bomb, DataLimits.defaults(), "its png header declares 20000 x 20000 = 400000000"
                + " pixels, more than the limit of 100000000 (DataLimits.maxImagePixels, -Ddeepnet.data.maxImagePixels);"
                + " refused before decoding");
        assertEquals(-1, e.offset());
        // what the loaders use without an argument: the system properties, unset here, so the defaults
        assertThrows(DataFormatException.class, () -> ImageFolder.preprocess(bomb, 4, 4, NO_MEAN, UNIT_STD));
    }

    @Test
    void jpegAndBmpHeadersDeclaringBillionsOfPixelsAreRefused() throws IOException {
        refused(write("bomb.jpg", DecompressionBombs.jpegDeclaring(60000, 60000)), DataLimits.defaults(),
                "header declares 60000 x 60000 = 3600000000 pixels, more than the limit of 100000000");
        // the JDK's BMP reader checks an uncompressed BMP's size against its data itself; refused either way
        refused(write("bomb.bmp", DecompressionBombs.bmpDeclaring(40000, 40000)), DataLimits.defaults(),
                "unreadable image: ");
    }

    @Test
    void aPixelLimitBelowANormalImageRefusesItAndOneAtItsSizePassesIt() throws IOException {
        Path image = write("8x6.png", DecompressionBombs.encoded(solid(8, 6, Color.WHITE), "png"));
        refused(image, DataLimits.defaults().withMaxImagePixels(47), "header declares 8 x 6 = 48 pixels, more than the"
                + " limit of 47");
        float[] x = ImageFolder.preprocess(image, 4, 4, NO_MEAN, UNIT_STD, DataLimits.defaults().withMaxImagePixels(48));
        float[] white = new float[3 * 4 * 4];
        Arrays.fill(white, 1f);
        assertArrayEquals(white, x);
    }

    @Test
    void pastThePixelLimitTheHeapStillBoundsWhatIsDecoded() throws IOException {
        // 4e10 pixels need at least 240 GB to decode: more than any test JVM has
        Path image = write("huge.png", DecompressionBombs.pngDeclaring(200000, 200000));
        refused(image, DataLimits.defaults().withMaxImagePixels(Long.MAX_VALUE), "needs about ",
                " of heap for decoding its 200000 x 200000 pixels, but the JVM has about ", "give it more with -Xmx");
    }

    @Test
    void theSkippingLoaderSkipsAndCountsBombsAndCorruptImages() throws IOException {
        Path root = dir.resolve("root");
        write("root/cat/1.png", DecompressionBombs.encoded(solid(8, 8, Color.RED), "png"));
        write("root/cat/2.jpg", DecompressionBombs.encoded(solid(8, 8, Color.RED), "jpg"));
        Path pngBomb = write("root/cat/3-bomb.png", DecompressionBombs.pngOfZeros(20000, 20000));
        Path jpegBomb = write("root/dog/1-bomb.jpg", DecompressionBombs.jpegDeclaring(60000, 60000));
        write("root/dog/2.png", DecompressionBombs.encoded(solid(8, 8, Color.BLUE), "png"));
        Path bmpBomb = write("root/dog/3-bomb.bmp", DecompressionBombs.bmpDeclaring(40000, 40000));
        byte[] jpeg = DecompressionBombs.encoded(solid(16, 16, Color.BLUE), "jpg");
        Path truncated = write("root/dog/4-truncated.jpg", Arrays.copyOf(jpeg, jpeg.length / 3));

        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFolder.load(root, 4, 4));
        IdxFileTest.assertMessage(e, pngBomb, "pixels, more than the limit of 100000000");

        try (ImageFolder f = ImageFolder.load(root, 4, 4, NO_MEAN, UNIT_STD, true, DataLimits.defaults())) {
            assertEquals(List.of(pngBomb, jpegBomb, bmpBomb, truncated), f.skipped());
            assertEquals(4, f.skippedCount());
            assertEquals(List.of(root.resolve("cat/1.png"), root.resolve("cat/2.jpg"), root.resolve("dog/2.png")), f.files());
            assertArrayEquals(new int[] {0, 0, 1}, f.dataset().labels());
        }
        // the same folder through the six-argument overload, which reads the system properties
        try (ImageFolder f = ImageFolder.load(root, 4, 4, NO_MEAN, UNIT_STD, true)) {
            assertEquals(4, f.skippedCount());
        }
    }
}
