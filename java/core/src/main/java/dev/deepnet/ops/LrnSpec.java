package dev.deepnet.ops;

/**
 * Local response normalisation across channels (AlexNet, section 3.3):
 * {@code y[c] = x[c] / (k + alpha / size * sum over the size channels centred on c of x^2)^beta}.
 * The sum is divided by {@code size}, as oneDNN and PyTorch do. The paper writes no division, so
 * its alpha = 1e-4 is our alpha = 5e-4 at size 5: {@link #alexNet()} is the paper's setting.
 */
public record LrnSpec(int size, float alpha, float beta, float k) {

    public LrnSpec {
        if (size < 1 || size % 2 == 0) {
            throw new IllegalArgumentException("LRN size must be odd and >= 1 (a window centred on the channel), got " + size);
        }
        if (!(k > 0) || !(alpha >= 0) || !(beta >= 0)) {
            throw new IllegalArgumentException("LRN needs k > 0, alpha >= 0 and beta >= 0; got k " + k + ", alpha " + alpha
                    + ", beta " + beta);
        }
    }

    /** AlexNet's setting: n = 5, the paper's alpha 1e-4 (5e-4 here, see above), beta 0.75, k 2. */
    public static LrnSpec alexNet() {
        return new LrnSpec(5, 5e-4f, 0.75f, 2f);
    }
}
