package dev.deepnet.lab.experiments;

import dev.deepnet.nn.Dense;
import dev.deepnet.ops.Activation;

/** A dense layer's neurons evaluated in plain Java, for pictures and probes of small nets. */
final class Neurons {
    private Neurons() {}

    /** The weight matrix as rows: [out][in]. */
    static float[][] matrix(Dense d) {
        float[] w = d.weight().value().toArray();
        int in = d.inputFeatures();
        float[][] m = new float[d.outputFeatures()][in];
        for (int o = 0; o < m.length; o++) {
            System.arraycopy(w, o * in, m[o], 0, in);
        }
        return m;
    }

    /** y = f(W x + b) for one input vector. */
    static float[] layer(Dense d, float[] x) {
        float[][] w = matrix(d);
        float[] b = d.bias().value().toArray();
        float[] y = new float[w.length];
        for (int o = 0; o < w.length; o++) {
            double z = b[o];
            for (int i = 0; i < x.length; i++) {
                z += (double) w[o][i] * x[i];
            }
            y[o] = (float) apply(d.activation(), z);
        }
        return y;
    }

    static double apply(Activation f, double z) {
        return switch (f) {
            case SIGMOID -> 1 / (1 + Math.exp(-z));
            case RELU -> Math.max(0, z);
            case TANH -> Math.tanh(z);
            case LINEAR -> z;
        };
    }
}
