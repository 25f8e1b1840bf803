package dev.deepnet.infer;

/** The tests' oracle for probabilities: a softmax of raw scores, written out apart from {@link ClassOutput}. */
public final class SoftmaxOracle {
    private SoftmaxOracle() {}

    public static float[] of(float[] scores) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : scores) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : scores) {
            sum += Math.exp(v - max);
        }
        float[] p = new float[scores.length];
        for (int i = 0; i < scores.length; i++) {
            p[i] = (float) (Math.exp(scores[i] - max) / sum);
        }
        return p;
    }
}
