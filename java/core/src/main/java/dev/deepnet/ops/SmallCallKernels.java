package dev.deepnet.ops;

import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain-Java kernels for calls too small to pay for a oneDNN call: the dense, element-wise and
 * accumulate ops of nets like the lecture's 10-3-10 autoencoder, where a native call (about a
 * microsecond) costs more than the arithmetic. They read and write the tensors' memory in place
 * and allocate nothing, unlike {@link ReferenceOps}, which copies to arrays to stay obviously
 * correct and remains the oracle these are tested against (with every backward checked against
 * finite differences). Accumulation is in double, as in the reference; arguments are checked by
 * {@link Ops} before they get here.
 */
final class SmallCallKernels {
    private SmallCallKernels() {}

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** y = x w^T + b. x (N, I), w (O, I), b (O) or null, y (N, O). */
    static void linearForward(Tensor x, Tensor w, Tensor b, Tensor y) {
        int n = x.shape().intDim(0), in = x.shape().intDim(1), out = w.shape().intDim(0);
        MemorySegment xs = x.segment(), ws = w.segment(), bs = b == null ? null : b.segment(), ys = y.segment();
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double s = bs == null ? 0 : bs.getAtIndex(F, o);
                for (int k = 0; k < in; k++) {
                    s += (double) xs.getAtIndex(F, (long) i * in + k) * ws.getAtIndex(F, (long) o * in + k);
                }
                ys.setAtIndex(F, (long) i * out + o, (float) s);
            }
        }
    }

    /** dx = dy w. dy (N, O), w (O, I), dx (N, I). */
    static void linearBackwardData(Tensor dy, Tensor w, Tensor dx) {
        int n = dy.shape().intDim(0), out = w.shape().intDim(0), in = w.shape().intDim(1);
        MemorySegment dys = dy.segment(), ws = w.segment(), dxs = dx.segment();
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int o = 0; o < out; o++) {
                    s += (double) dys.getAtIndex(F, (long) i * out + o) * ws.getAtIndex(F, (long) o * in + k);
                }
                dxs.setAtIndex(F, (long) i * in + k, (float) s);
            }
        }
    }

    /** dw = dy^T x, db = column sums of dy (db may be null). x (N, I), dy (N, O), dw (O, I), db (O). */
    static void linearBackwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db) {
        int n = x.shape().intDim(0), in = x.shape().intDim(1), out = dy.shape().intDim(1);
        MemorySegment xs = x.segment(), dys = dy.segment(), dws = dw.segment();
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += (double) dys.getAtIndex(F, (long) i * out + o) * xs.getAtIndex(F, (long) i * in + k);
                }
                dws.setAtIndex(F, (long) o * in + k, (float) s);
            }
        }
        if (db != null) {
            MemorySegment dbs = db.segment();
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += dys.getAtIndex(F, (long) i * out + o);
                }
                dbs.setAtIndex(F, o, (float) s);
            }
        }
    }

    /** y = f(x), element by element (y may be x). */
    static void activationForward(Activation f, Tensor x, Tensor y) {
        MemorySegment xs = x.segment(), ys = y.segment();
        long size = x.size();
        for (long i = 0; i < size; i++) {
            double v = xs.getAtIndex(F, i);
            ys.setAtIndex(F, i, (float) switch (f) {
                case SIGMOID -> 1.0 / (1.0 + Math.exp(-v));
                case RELU -> v > 0 ? v : 0.0;
                case TANH -> Math.tanh(v);
                case LINEAR -> v;
            });
        }
    }

    /** dx = dy * f'(x), from x or from y = f(x), whichever the derivative needs. */
    static void activationBackward(Activation f, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        MemorySegment xs = x.segment(), ys = y.segment(), dys = dy.segment(), dxs = dx.segment();
        long size = x.size();
        for (long i = 0; i < size; i++) {
            double g = dys.getAtIndex(F, i);
            double out = ys.getAtIndex(F, i);
            dxs.setAtIndex(F, i, (float) switch (f) {
                case SIGMOID -> g * out * (1.0 - out);
                case RELU -> xs.getAtIndex(F, i) > 0 ? g : 0.0;
                case TANH -> g * (1.0 - out * out);
                case LINEAR -> g;
            });
        }
    }

    /** y = a + b (y may be a). */
    static void add(Tensor a, Tensor b, Tensor y) {
        MemorySegment as = a.segment(), bs = b.segment(), ys = y.segment();
        long size = a.size();
        for (long i = 0; i < size; i++) {
            ys.setAtIndex(F, i, as.getAtIndex(F, i) + bs.getAtIndex(F, i));
        }
    }

    /** dst += src. */
    static void accumulate(Tensor src, Tensor dst) {
        add(dst, src, dst);
    }
}
