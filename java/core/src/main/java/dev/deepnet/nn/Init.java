package dev.deepnet.nn;

import dev.deepnet.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * Seeded weight initialisation. Fan-in and fan-out of a weight (out, in, kH, kW) are
 * in·kH·kW and out·kH·kW.
 */
public enum Init {
    /** Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fanIn + fanOut)); for sigmoid and tanh units. */
    XAVIER,
    /** He/Kaiming normal: N(0, 2 / fanIn); for relu units. */
    HE,
    /** All zeros (biases). */
    ZEROS;

    /** Fills {@code t} for a weight with the given fans, drawing from {@code random}. */
    void fill(Tensor t, long fanIn, long fanOut, SplittableRandom random) {
        switch (this) {
            case ZEROS -> t.fill(0f);
            case XAVIER -> {
                double a = Math.sqrt(6.0 / (fanIn + fanOut));
                for (long i = 0; i < t.size(); i++) {
                    t.setFlat(i, (float) ((random.nextDouble() * 2 - 1) * a));
                }
            }
            case HE -> {
                double sd = Math.sqrt(2.0 / fanIn);
                for (long i = 0; i < t.size(); i++) {
                    t.setFlat(i, (float) (gaussian(random) * sd));
                }
            }
        }
    }

    /** A standard normal draw (Box–Muller), so the stream depends only on SplittableRandom. */
    static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble(); // (0, 1]
        double v = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
