package dev.deepnet.occlusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class LaplacianPyramidTest {

    static float[] random(Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        return x;
    }

    static double maxError(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** Even, odd, prime, tall, wide, single-pixel and multi-channel images; each with a seed. */
    static Stream<Arguments> shapes() {
        return Stream.of(Arguments.of(Shape.of(28, 28), 1L), Arguments.of(Shape.of(1, 28, 28), 2L), Arguments.of(Shape.of(3, 13, 17), 3L),
                Arguments.of(Shape.of(2, 5, 1), 4L), Arguments.of(Shape.of(1, 1), 5L), Arguments.of(Shape.of(31, 2), 6L),
                Arguments.of(Shape.of(3, 64, 48), 7L), Arguments.of(Shape.of(1, 227, 227), 8L), Arguments.of(Shape.of(7, 9), 9L));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void theBandsCollapseBackToTheImageAtEveryDepth(Shape shape, long seed) {
        float[] image = random(shape, seed);
        for (int levels = 1; levels <= LaplacianPyramid.maxLevels(shape); levels++) {
            LaplacianPyramid p = LaplacianPyramid.decompose(image, shape, levels);
            double error = maxError(image, p.reconstruct());
            assertTrue(error <= 1e-5, shape + " with " + levels + " levels: max error " + error);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void eachBandBroughtUpToFullSizeSumsToTheImage(Shape shape, long seed) {
        float[] image = random(shape, seed);
        LaplacianPyramid p = LaplacianPyramid.decompose(image, shape, LaplacianPyramid.maxLevels(shape));
        float[] sum = new float[image.length];
        for (int k = 0; k < p.levels(); k++) {
            float[] up = p.upsampled(k);
            for (int i = 0; i < sum.length; i++) {
                sum[i] += up[i];
            }
        }
        double error = maxError(image, sum);
        assertTrue(error <= 1e-5, shape + ": max error " + error);
    }

    @Test
    void sidesHalveRoundingUpAndBandsHaveTheirOwnSize() {
        LaplacianPyramid p = LaplacianPyramid.decompose(new float[3 * 28 * 27], Shape.of(3, 28, 27), 4);
        assertArrayEquals(new int[] {28, 14, 7, 4}, new int[] {p.height(0), p.height(1), p.height(2), p.height(3)});
        assertArrayEquals(new int[] {27, 14, 7, 4}, new int[] {p.width(0), p.width(1), p.width(2), p.width(3)});
        assertEquals(3 * 7 * 7, p.band(2).length);
        assertEquals(6, LaplacianPyramid.maxLevels(Shape.of(28, 28))); // 28, 14, 7, 4, 2, 1
        assertEquals(1, LaplacianPyramid.maxLevels(Shape.of(1, 1, 1)));
    }

    @Test
    void aFlatImageHasNoDetailAndItsLowPassIsTheSameLevel() {
        float[] flat = new float[13 * 10];
        java.util.Arrays.fill(flat, 0.25f);
        LaplacianPyramid p = LaplacianPyramid.decompose(flat, Shape.of(13, 10), 4);
        for (int k = 0; k < 3; k++) {
            for (float v : p.band(k)) {
                assertEquals(0f, v, 1e-6, "detail band " + k);
            }
        }
        for (float v : p.band(3)) {
            assertEquals(0.25f, v, 1e-6, "the low-pass band keeps the level, borders included");
        }
    }

    @Test
    void detailBandsOfASmoothImageAreSmallAndOfANoisyOneLarge() {
        Shape s = Shape.of(32, 32);
        float[] smooth = new float[32 * 32];
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                smooth[y * 32 + x] = (float) Math.sin(x / 10.0) * (float) Math.cos(y / 12.0);
            }
        }
        LaplacianPyramid ps = LaplacianPyramid.decompose(smooth, s, 4);
        LaplacianPyramid pn = LaplacianPyramid.decompose(random(s, 11), s, 4);
        // Per coefficient: the finest band has 64 times as many as the 4x4 low-pass one.
        double fine = ps.energy(0) / (32 * 32);
        double low = ps.energy(3) / (4 * 4);
        assertTrue(fine < 0.01 * low, "a smooth image lives in the low-pass band: " + fine + " vs " + low + " per coefficient");
        assertTrue(pn.energy(0) > ps.energy(0) * 20, "noise lives in the finest band: " + pn.energy(0) + " vs " + ps.energy(0));
    }

    @Test
    void zeroingAWholeBandRemovesExactlyThatBandsContribution() {
        Shape s = Shape.of(2, 28, 28);
        float[] image = random(s, 12);
        LaplacianPyramid p = LaplacianPyramid.decompose(image, s, 4);
        for (int k = 0; k < 4; k++) {
            boolean[][] removed = new boolean[4][];
            removed[k] = new boolean[p.height(k) * p.width(k)];
            java.util.Arrays.fill(removed[k], true);
            float[] without = p.reconstruct(removed);
            float[] band = p.upsampled(k);
            for (int i = 0; i < image.length; i++) {
                assertEquals(image[i] - band[i], without[i], 1e-5, "band " + k + " at " + i);
            }
        }
        assertArrayEquals(p.reconstruct(), p.reconstruct(new boolean[4][]), "null masks remove nothing");
    }

    @Test
    void aMaskedPositionZeroesThatCoefficientInEveryChannel() {
        Shape s = Shape.of(3, 8, 8);
        float[] image = random(s, 13);
        LaplacianPyramid p = LaplacianPyramid.decompose(image, s, 1);
        boolean[][] removed = {new boolean[64]};
        removed[0][9] = true; // (1, 1)
        float[] out = p.reconstruct(removed);
        for (int ch = 0; ch < 3; ch++) {
            for (int i = 0; i < 64; i++) {
                assertEquals(i == 9 ? 0f : image[ch * 64 + i], out[ch * 64 + i], 1e-7, "channel " + ch + " position " + i);
            }
        }
    }

    @Test
    void badArgumentsAreNamed() {
        float[] x = new float[28 * 28];
        Shape s = Shape.of(28, 28);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LaplacianPyramid.decompose(x, s, 0)),
                "levels must be between 1 and 6", "28x28", "got 0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LaplacianPyramid.decompose(x, s, 7)), "got 7");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LaplacianPyramid.decompose(new float[5], s, 2)),
                "(28, 28) has 784 floats, got 5");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LaplacianPyramid.decompose(x, Shape.of(1, 1, 28, 28), 2)),
                "(C, H, W) or (H, W)", "(1, 1, 28, 28)");
        LaplacianPyramid p = LaplacianPyramid.decompose(x, s, 3);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> p.reconstruct(new boolean[2][])), "each of the 3 bands, got 2");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> p.reconstruct(new boolean[][] {null, new boolean[5], null})),
                "mask of band 1", "14x14 = 196", "got 5");
        assertMessage(assertThrows(IndexOutOfBoundsException.class, () -> p.band(3)), "band 3 of a pyramid of 3 bands");
    }

    static void assertMessage(Throwable e, String... fragments) {
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should contain '" + f + "': " + e.getMessage());
        }
    }
}
