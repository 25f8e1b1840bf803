package dev.deepnet.data;

import static dev.deepnet.data.IdxFileTest.gzip;
import static dev.deepnet.data.IdxFileTest.idx;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of seeded mutations of small valid IDX files, plain and gzip: every outcome must be
 * a file read or a {@link DataFormatException} naming it. Any other throwable (an
 * {@code ArrayIndexOutOfBoundsException}, an {@code OutOfMemoryError}, a raw {@code ZipException})
 * fails, naming the seed and the mutation.
 */
class IdxFileMutationTest {

    private static final long SEED = 20_240_612L;
    private static final int MUTATIONS_PER_FILE = 400;

    @TempDir
    Path dir;

    /** Outcomes, to check the mutations reach both sides: some files still read, most are refused. */
    private int read;
    private int refused;

    private static byte[] counting(int n, int step) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * step);
        }
        return b;
    }

    private static final byte[] IMAGES = idx(0x08, new int[] {4, 5, 6}, counting(120, 7));
    private static final byte[] LABELS = idx(0x08, new int[] {4}, new byte[] {3, 0, 9, 1});
    private static final byte[] INTS = idx(0x0C, new int[] {3, 2}, ByteBuffer.allocate(24).putInt(-1).putInt(7)
            .putInt(1 << 20).putInt(0).putInt(Integer.MIN_VALUE).putInt(42).array());
    private static final byte[] DOUBLES = idx(0x0E, new int[] {2}, ByteBuffer.allocate(16).putDouble(0.5)
            .putDouble(-3e10).array());

    /**
     * Reads one mutation of {@code original}; anything but a result or the typed refusal fails. The
     * refusal must name the mutated file: first, or (when the pair disagrees) in its message.
     */
    private void check(String name, byte[] original, long seed, Reading reading) throws IOException {
        ByteMutations.Mutation m = ByteMutations.mutate(original, new Random(seed));
        Path file = Files.write(dir.resolve(name), m.bytes());
        try {
            reading.read(file);
            read++;
        } catch (DataFormatException e) {
            assertTrue(e.getMessage().startsWith(e.file() + ": ") && e.getMessage().contains(file.toString()),
                    "seed " + seed + " (" + m.description() + "): the refusal does not name the file: " + e.getMessage());
            refused++;
        } catch (Throwable t) {
            throw new AssertionError(name + ", seed " + seed + " (" + m.description() + "): " + t, t);
        }
    }

    @FunctionalInterface
    private interface Reading {
        void read(Path file) throws IOException;
    }

    @Test
    void mutatedPlainAndGzipFilesAreReadOrRefusedWithTheTypedException() throws IOException {
        // a small byte limit as a service would set: a mutated header cannot make a test allocate much
        DataLimits limits = DataLimits.defaults().withMaxIdxBytes(1 << 20);
        byte[][] originals = {IMAGES, LABELS, INTS, DOUBLES};
        for (int f = 0; f < originals.length; f++) {
            for (boolean compressed : new boolean[] {false, true}) {
                byte[] original = compressed ? gzip(originals[f]) : originals[f];
                for (int i = 0; i < MUTATIONS_PER_FILE; i++) {
                    long seed = SEED + 1_000_000L * (2 * f + (compressed ? 1 : 0)) + i;
                    check("f" + f + (compressed ? ".gz" : ".idx"), original, seed, file -> {
                        IdxFile x = IdxFile.read(file, limits);
                        x.floats(false);
                        if (x.type().isInteger()) {
                            x.ints();
                        }
                    });
                }
            }
        }
        assertTrue(read > 0 && refused > read, read + " read, " + refused + " refused");
    }

    @Test
    void loadImagesWithAMutatedImagesOrLabelsFileReadsOrRefusesWithTheTypedException() throws IOException {
        Path images = Files.write(dir.resolve("images.idx"), IMAGES);
        Path labels = Files.write(dir.resolve("labels.idx.gz"), gzip(LABELS));
        for (int i = 0; i < MUTATIONS_PER_FILE; i++) {
            check("mutated-images.gz", gzip(IMAGES), SEED + 10_000_000L + i, file -> {
                try (Dataset d = IdxFile.loadImages(file, labels, 10)) {
                    d.size();
                }
            });
            check("mutated-labels.idx", LABELS, SEED + 20_000_000L + i, file -> {
                try (Dataset d = IdxFile.loadImages(images, file, 10)) {
                    d.size();
                }
            });
        }
        assertTrue(read > 0 && refused > read, read + " read, " + refused + " refused");
    }
}
