package dev.deepnet.data;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of seeded mutations of small valid PNG, JPEG, GIF and BMP files through
 * {@link ImageFolder#preprocess}: every outcome must be an image or a {@link DataFormatException}
 * naming the file, whatever javax.imageio's decoders throw inside. Any other throwable fails,
 * naming the format, the seed and the mutation.
 */
class ImageFolderMutationTest {

    private static final long SEED = 20_240_613L;

    @TempDir
    Path dir;

    private static final float[] NO_MEAN = {0, 0, 0};
    private static final float[] UNIT_STD = {1, 1, 1};

    /** A 12 x 10 image with a different colour at every pixel, so decoding has something to get wrong. */
    private static BufferedImage gradient(int type) {
        BufferedImage image = new BufferedImage(12, 10, type);
        for (int y = 0; y < 10; y++) {
            for (int x = 0; x < 12; x++) {
                image.setRGB(x, y, (x * 21) << 16 | (y * 25) << 8 | (x * y * 2));
            }
        }
        return image;
    }

    private void mutate(String format, int imageType, int mutations, long seedBase) throws IOException {
        byte[] original = DecompressionBombs.encoded(gradient(imageType), format);
        // a small pixel limit: a mutated header declaring thousands of pixels is refused, not decoded
        DataLimits limits = DataLimits.defaults().withMaxImagePixels(1 << 16);
        Path file = dir.resolve("mutated." + format);
        int decoded = 0;
        int refused = 0;
        for (int i = 0; i < mutations; i++) {
            long seed = seedBase + i;
            ByteMutations.Mutation m = ByteMutations.mutate(original, new Random(seed));
            Files.write(file, m.bytes());
            try {
                ImageFolder.preprocess(file, 4, 4, NO_MEAN, UNIT_STD, limits);
                decoded++;
            } catch (DataFormatException e) {
                assertTrue(e.getMessage().startsWith(file + ": ") && file.equals(e.file()),
                        format + " seed " + seed + " (" + m.description() + "): does not name the file: " + e.getMessage());
                refused++;
            } catch (Throwable t) {
                throw new AssertionError(format + ", seed " + seed + " (" + m.description() + "): " + t, t);
            }
        }
        assertTrue(decoded > 0 && refused > 0, format + ": " + decoded + " decoded, " + refused + " refused");
    }

    @Test
    void mutatedPngsDecodeOrAreRefusedWithTheTypedException() throws IOException {
        mutate("png", BufferedImage.TYPE_INT_RGB, 800, SEED);
        mutate("png", BufferedImage.TYPE_BYTE_INDEXED, 400, SEED + 1_000_000); // the palette path of the PNG reader
    }

    @Test
    void mutatedJpegsDecodeOrAreRefusedWithTheTypedException() throws IOException {
        mutate("jpg", BufferedImage.TYPE_INT_RGB, 800, SEED + 2_000_000);
    }

    @Test
    void mutatedGifsAndBmpsDecodeOrAreRefusedWithTheTypedException() throws IOException {
        mutate("gif", BufferedImage.TYPE_INT_RGB, 400, SEED + 3_000_000);
        mutate("bmp", BufferedImage.TYPE_INT_RGB, 400, SEED + 4_000_000);
    }
}
