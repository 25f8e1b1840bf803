package dev.deepnet.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.SplittableRandom;

/** Checks shared by the op tests: seeded data, backend agreement, finite-difference gradients. */
final class OpCheck {
    private OpCheck() {}

    /** Uniform values in [-1, 1), seeded. */
    static Tensor random(Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(shape);
        for (long i = 0; i < shape.size(); i++) {
            t.setFlat(i, (float) (r.nextDouble() * 2 - 1));
        }
        return t;
    }

    /** Values at least {@code gap} apart from each other in magnitude, shuffled: no ties and no kinks within a step. */
    static Tensor distinct(Shape shape, long seed, double gap) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = Math.toIntExact(shape.size());
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((i - n / 2.0) * gap + gap / 2);
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            float t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return Tensor.of(shape, v);
    }

    /**
     * Asserts the two backends agree: for every element, |actual - expected| divided by the larger
     * of |expected| and the RMS of all expected values is at most 1e-4, scaled by sqrt(K)/4 for a
     * reduction of length K > 16 (float32 rounding grows with the number of terms summed).
     */
    static void assertClose(String what, Tensor expected, Tensor actual, long reduction) {
        float[] e = expected.toArray();
        float[] a = actual.toArray();
        double rms = 0;
        for (float v : e) {
            rms += (double) v * v;
        }
        rms = Math.sqrt(rms / Math.max(1, e.length));
        double tolerance = 1e-4 * Math.max(1, Math.sqrt(reduction) / 4);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < e.length; i++) {
            double err = Math.abs(a[i] - e[i]) / Math.max(Math.max(Math.abs(e[i]), rms), 1e-30);
            if (!(err <= worst)) {
                worst = err;
                at = i;
            }
        }
        if (!(worst <= tolerance)) {
            fail(what + ": relative error " + worst + " > " + tolerance + " at flat index " + at + " (expected " + e[at]
                    + ", got " + a[at] + ")");
        }
    }

    /** The loss the gradient checks differentiate: L = sum(y * g), so dL/dy = g. */
    static double loss(Tensor y, Tensor g) {
        double s = 0;
        for (long i = 0; i < y.size(); i++) {
            s += (double) y.getFlat(i) * g.getFlat(i);
        }
        return s;
    }

    /**
     * Compares {@code analytic} (the backend's gradient of L = sum(y * g) with respect to
     * {@code input}) with central finite differences: {@code forward} recomputes y from the
     * current inputs. Checks up to {@code samples} seeded positions of the input.
     */
    static void assertGradient(String what, Runnable forward, Tensor y, Tensor g, Tensor input, Tensor analytic, double h,
            int samples, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = input.size();
        int count = (int) Math.min(samples, n);
        for (int s = 0; s < count; s++) {
            long i = n <= samples ? s : r.nextLong(n);
            float v = input.getFlat(i);
            input.setFlat(i, (float) (v + h));
            forward.run();
            double plus = loss(y, g);
            input.setFlat(i, (float) (v - h));
            forward.run();
            double minus = loss(y, g);
            input.setFlat(i, v);
            double fd = (plus - minus) / (2 * h);
            double an = analytic.getFlat(i);
            double err = Math.abs(fd - an);
            assertTrue(err <= 1e-3 + 5e-3 * Math.abs(an),
                    what + ": gradient at flat index " + i + " is " + an + " but finite differences give " + fd);
        }
        forward.run(); // leave y as the unperturbed inputs give it
    }
}
