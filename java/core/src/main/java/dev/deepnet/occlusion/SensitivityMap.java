package dev.deepnet.occlusion;

/**
 * The drop in the true class's probability with a patch at each position:
 * {@code drops[row * lefts.length + col]} for the patch whose top-left corner is
 * ({@code tops[row]}, {@code lefts[col]}). A negative drop means hiding that part made the class
 * more probable.
 *
 * @param height the image's height
 * @param width the image's width
 * @param baseline the true class's probability with nothing hidden
 */
public record SensitivityMap(int height, int width, int patch, int[] tops, int[] lefts, int trueClass, float baseline, float[] drops) {

    public int rows() {
        return tops.length;
    }

    public int cols() {
        return lefts.length;
    }

    public float drop(int row, int col) {
        return drops[row * lefts.length + col];
    }

    /** The largest drop: the position the classifier relies on most. */
    public float maxDrop() {
        float m = Float.NEGATIVE_INFINITY;
        for (float d : drops) {
            m = Math.max(m, d);
        }
        return m;
    }

    /**
     * Per pixel, the mean drop of the patches that cover it: the map at the image's resolution,
     * for drawing over the image. Every pixel is covered by at least one patch.
     */
    public float[] perPixel() {
        double[] sum = new double[height * width];
        int[] count = new int[height * width];
        for (int r = 0; r < tops.length; r++) {
            for (int c = 0; c < lefts.length; c++) {
                float d = drop(r, c);
                for (int y = tops[r]; y < tops[r] + patch; y++) {
                    for (int x = lefts[c]; x < lefts[c] + patch; x++) {
                        sum[y * width + x] += d;
                        count[y * width + x]++;
                    }
                }
            }
        }
        float[] out = new float[height * width];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (sum[i] / count[i]);
        }
        return out;
    }
}
