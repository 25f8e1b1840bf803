package dev.deepnet.occlusion;

import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.tensor.Shape;
import java.util.SplittableRandom;

/**
 * Small models for the occlusion tests. The hand-built one reads 12x12 grey images: class 0 scores
 * the top half's mean brightness, class 1 the bottom half's, class 2 a constant 0.2, so a bright
 * top keeps class 0 until that half's mean falls below both others.
 */
final class HalvesModel {

    static final Shape IMAGE = Shape.of(1, 12, 12);

    private HalvesModel() {}

    static Model handBuilt() {
        Dense dense = new Dense(144, 3);
        Model model = Model.sequential(IMAGE, 1, new Flatten(), dense);
        float[] w = new float[3 * 144];
        for (int i = 0; i < 144; i++) {
            boolean top = i < 72;
            w[i] = top ? 1f / 72 : 0; // class 0
            w[144 + i] = top ? 0 : 1f / 72; // class 1
        }
        dense.weight().value().copyFrom(w);
        dense.bias().value().copyFrom(new float[] {0, 0, 0.2f});
        return model;
    }

    /** A random (untrained) convnet over 3-channel 12x12 images with 4 classes: the searches need no trained net. */
    static Model randomConvnet(long seed) {
        return Model.sequential(Shape.of(3, 12, 12), seed, new Conv2d(3, 4, 3, 1, 1), new Relu(), new MaxPool2d(2, 2), new Flatten(),
                new Dense(4 * 6 * 6, 4));
    }

    /** A bright blob in the top half on a dark ground, with some noise: class 0 for {@link #handBuilt}. */
    static float[] brightTop(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[144];
        for (int y = 0; y < 12; y++) {
            for (int c = 0; c < 12; c++) {
                double blob = y >= 1 && y <= 5 && c >= 2 && c <= 9 ? 0.9 : 0.05;
                x[y * 12 + c] = (float) Math.min(1, Math.max(0, blob + r.nextDouble(-0.05, 0.05)));
            }
        }
        return x;
    }

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble();
        }
        return x;
    }
}
