package dev.deepnet.ops;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;

/**
 * Plain-Java loops for every operation: the oracle other backends are tested against, and the
 * fallback when oneDNN cannot load. Written for obviousness, not speed.
 *
 * <p>Every kernel copies its inputs to {@code float[]} ({@link Tensor#toArray()}), computes, and
 * writes its outputs back with {@link Tensor#copyFrom(float[])}; so an output may alias an input
 * (in-place activations, for instance). Sums are accumulated in double and stored as float. The
 * tensors must therefore hold fewer than 2^31 elements each, far more than any test uses.
 *
 * <p>No caches and no state: {@link #close()} does nothing and the instance stays usable.
 */
public final class ReferenceOps extends Ops {

    public ReferenceOps() {
    }

    @Override
    public String name() {
        return "reference";
    }

    // ---------------------------------------------------------------- dense

    @Override
    protected void doLinearForward(Tensor x, Tensor w, Tensor b, Tensor y) {
        // x (N, I), w (O, I), b (O) or null, y (N, O)
        int n = x.shape().intDim(0);
        int in = x.shape().intDim(1);
        int out = w.shape().intDim(0);
        float[] xs = x.toArray();
        float[] ws = w.toArray();
        float[] bs = b == null ? null : b.toArray();
        float[] ys = new float[n * out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double s = bs == null ? 0 : bs[o];
                for (int k = 0; k < in; k++) {
                    s += (double) xs[i * in + k] * ws[o * in + k];
                }
                ys[i * out + o] = (float) s;
            }
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doLinearBackwardData(Tensor dy, Tensor w, Tensor dx) {
        // dy (N, O), w (O, I), dx (N, I): dx = dy w
        int n = dy.shape().intDim(0);
        int out = w.shape().intDim(0);
        int in = w.shape().intDim(1);
        float[] dys = dy.toArray();
        float[] ws = w.toArray();
        float[] dxs = new float[n * in];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int o = 0; o < out; o++) {
                    s += (double) dys[i * out + o] * ws[o * in + k];
                }
                dxs[i * in + k] = (float) s;
            }
        }
        dx.copyFrom(dxs);
    }

    @Override
    protected void doLinearBackwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db) {
        // x (N, I), dy (N, O), dw (O, I), db (O) or null: dw = dy^T x, db = column sums of dy
        int n = x.shape().intDim(0);
        int in = x.shape().intDim(1);
        int out = dy.shape().intDim(1);
        float[] xs = x.toArray();
        float[] dys = dy.toArray();
        float[] dws = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += (double) dys[i * out + o] * xs[i * in + k];
                }
                dws[o * in + k] = (float) s;
            }
        }
        if (db != null) {
            float[] dbs = new float[out];
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += dys[i * out + o];
                }
                dbs[o] = (float) s;
            }
            db.copyFrom(dbs);
        }
        dw.copyFrom(dws);
    }

    @Override
    protected void doMatmul(Tensor a, Tensor b, Tensor c) {
        // a (M, K), b (K, N), c (M, N): c = a b
        int m = a.shape().intDim(0);
        int kk = a.shape().intDim(1);
        int n = b.shape().intDim(1);
        float[] as = a.toArray();
        float[] bs = b.toArray();
        float[] cs = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < kk; k++) {
                    s += (double) as[i * kk + k] * bs[k * n + j];
                }
                cs[i * n + j] = (float) s;
            }
        }
        c.copyFrom(cs);
    }

    // ---------------------------------------------------------------- convolution

    /**
     * Dimensions of one convolution, and the one place the input position of a kernel tap is
     * computed: iy = oy * strideH - padTop + ky * dilationH (likewise for x); outside [0, H) x [0, W)
     * is zero padding. With groups, output channel o reads the cg = C / groups input channels from
     * {@link #firstInput}(o) on, and its weights (o, 0..cg, kH, kW).
     */
    private record ConvDims(Conv2dSpec spec, int n, int c, int h, int w, int o, int cg, int kh, int kw, int oh, int ow) {

        static ConvDims of(Conv2dSpec spec, Shape x, Shape w) {
            Shape y = spec.outputShape(x, w);
            return new ConvDims(spec, x.intDim(0), x.intDim(1), x.intDim(2), x.intDim(3), w.intDim(0), w.intDim(1), w.intDim(2),
                    w.intDim(3), y.intDim(2), y.intDim(3));
        }

        int iy(int oy, int ky) {
            return oy * spec.strideH() - spec.padTop() + ky * spec.dilationH();
        }

        int ix(int ox, int kx) {
            return ox * spec.strideW() - spec.padLeft() + kx * spec.dilationW();
        }

        /** The first input channel output channel {@code oc}'s group reads. */
        int firstInput(int oc) {
            return oc / (o / spec.groups()) * cg;
        }

        int xIndex(int in, int ic, int iy, int ix) {
            return ((in * c + ic) * h + iy) * w + ix;
        }

        /** Weight (oc, icg, ky, kx), icg counted within the group. */
        int wIndex(int oc, int icg, int ky, int kx) {
            return ((oc * cg + icg) * kh + ky) * kw + kx;
        }

        int yIndex(int in, int oc, int oy, int ox) {
            return ((in * o + oc) * oh + oy) * ow + ox;
        }
    }

    @Override
    protected void doConv2dForward(Conv2dSpec spec, Tensor x, Tensor w, Tensor b, Tensor y) {
        // x (N, C, H, W), w (O, C / groups, kH, kW), b (O) or null, y (N, O, oH, oW)
        ConvDims d = ConvDims.of(spec, x.shape(), w.shape());
        float[] xs = x.toArray();
        float[] ws = w.toArray();
        float[] bs = b == null ? null : b.toArray();
        float[] ys = new float[d.n * d.o * d.oh * d.ow];
        for (int n = 0; n < d.n; n++) {
            for (int o = 0; o < d.o; o++) {
                int c0 = d.firstInput(o);
                for (int oy = 0; oy < d.oh; oy++) {
                    for (int ox = 0; ox < d.ow; ox++) {
                        double s = bs == null ? 0 : bs[o];
                        for (int c = 0; c < d.cg; c++) {
                            for (int ky = 0; ky < d.kh; ky++) {
                                int iy = d.iy(oy, ky);
                                if (iy < 0 || iy >= d.h) {
                                    continue;
                                }
                                for (int kx = 0; kx < d.kw; kx++) {
                                    int ix = d.ix(ox, kx);
                                    if (ix < 0 || ix >= d.w) {
                                        continue;
                                    }
                                    s += (double) xs[d.xIndex(n, c0 + c, iy, ix)] * ws[d.wIndex(o, c, ky, kx)];
                                }
                            }
                        }
                        ys[d.yIndex(n, o, oy, ox)] = (float) s;
                    }
                }
            }
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doConv2dBackwardData(Conv2dSpec spec, Tensor dy, Tensor w, Tensor dx) {
        // dy (N, O, oH, oW), w (O, C / groups, kH, kW), dx (N, C, H, W)
        // Scatter: every tap that read x[n, c, iy, ix] in the forward pass sends dy * w back to it.
        ConvDims d = ConvDims.of(spec, dx.shape(), w.shape());
        float[] dys = dy.toArray();
        float[] ws = w.toArray();
        double[] acc = new double[d.n * d.c * d.h * d.w];
        for (int n = 0; n < d.n; n++) {
            for (int o = 0; o < d.o; o++) {
                int c0 = d.firstInput(o);
                for (int oy = 0; oy < d.oh; oy++) {
                    for (int ox = 0; ox < d.ow; ox++) {
                        double g = dys[d.yIndex(n, o, oy, ox)];
                        for (int c = 0; c < d.cg; c++) {
                            for (int ky = 0; ky < d.kh; ky++) {
                                int iy = d.iy(oy, ky);
                                if (iy < 0 || iy >= d.h) {
                                    continue;
                                }
                                for (int kx = 0; kx < d.kw; kx++) {
                                    int ix = d.ix(ox, kx);
                                    if (ix < 0 || ix >= d.w) {
                                        continue;
                                    }
                                    acc[d.xIndex(n, c0 + c, iy, ix)] += g * ws[d.wIndex(o, c, ky, kx)];
                                }
                            }
                        }
                    }
                }
            }
        }
        dx.copyFrom(toFloats(acc));
    }

    @Override
    protected void doConv2dBackwardWeights(Conv2dSpec spec, Tensor x, Tensor dy, Tensor dw, Tensor db) {
        // x (N, C, H, W), dy (N, O, oH, oW), dw (O, C / groups, kH, kW), db (O) or null
        // dw[o, c, ky, kx] = sum over n, oy, ox of dy[n, o, oy, ox] * x[n, firstInput(o) + c, iy, ix]; db[o] = sum of dy[:, o, :, :]
        ConvDims d = ConvDims.of(spec, x.shape(), dw.shape());
        float[] xs = x.toArray();
        float[] dys = dy.toArray();
        double[] acc = new double[d.o * d.cg * d.kh * d.kw];
        double[] bias = new double[d.o];
        for (int n = 0; n < d.n; n++) {
            for (int o = 0; o < d.o; o++) {
                int c0 = d.firstInput(o);
                for (int oy = 0; oy < d.oh; oy++) {
                    for (int ox = 0; ox < d.ow; ox++) {
                        double g = dys[d.yIndex(n, o, oy, ox)];
                        bias[o] += g;
                        for (int c = 0; c < d.cg; c++) {
                            for (int ky = 0; ky < d.kh; ky++) {
                                int iy = d.iy(oy, ky);
                                if (iy < 0 || iy >= d.h) {
                                    continue;
                                }
                                for (int kx = 0; kx < d.kw; kx++) {
                                    int ix = d.ix(ox, kx);
                                    if (ix < 0 || ix >= d.w) {
                                        continue;
                                    }
                                    acc[d.wIndex(o, c, ky, kx)] += g * xs[d.xIndex(n, c0 + c, iy, ix)];
                                }
                            }
                        }
                    }
                }
            }
        }
        dw.copyFrom(toFloats(acc));
        if (db != null) {
            db.copyFrom(toFloats(bias));
        }
    }

    // ---------------------------------------------------------------- pooling

    /** Max pooling's workspace: for each output element, the flat index in x (N, C, H, W) of its window's maximum. */
    private static final class MaxPoolWorkspace extends Workspace {
        final long[] argmax; // (N, C, oH, oW), flat

        MaxPoolWorkspace(Ops owner, Pool2dSpec spec, Shape input) {
            super(owner, spec, input, null);
            this.argmax = new long[Math.toIntExact(spec.outputShape(input).size())];
        }

        @Override
        protected void free() {
            // heap memory only; nothing to free
        }
    }

    /** Dimensions of one pooling; window tap (ky, kx) of output (oy, ox) reads iy = oy * strideH - padTop + ky. */
    private record PoolDims(Pool2dSpec spec, int n, int c, int h, int w, int oh, int ow) {

        static PoolDims of(Pool2dSpec spec, Shape x) {
            Shape y = spec.outputShape(x);
            return new PoolDims(spec, x.intDim(0), x.intDim(1), x.intDim(2), x.intDim(3), y.intDim(2), y.intDim(3));
        }

        int iy(int oy, int ky) {
            return oy * spec.strideH() - spec.padTop() + ky;
        }

        int ix(int ox, int kx) {
            return ox * spec.strideW() - spec.padLeft() + kx;
        }

        /** Number of real (non-padded) input positions in the window of (oy, ox). */
        int realCount(int oy, int ox) {
            int count = 0;
            for (int ky = 0; ky < spec.kernelH(); ky++) {
                for (int kx = 0; kx < spec.kernelW(); kx++) {
                    int iy = iy(oy, ky);
                    int ix = ix(ox, kx);
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                        count++;
                    }
                }
            }
            return count;
        }

        /** Counting padding: the window's positions inside the padded input (a ceil-mode overhang is not padding). */
        int divisor(int oy, int ox) {
            if (!spec.countPadding()) {
                return realCount(oy, ox);
            }
            int rows = Math.min(iy(oy, spec.kernelH() - 1), h - 1 + spec.padBottom()) - iy(oy, 0) + 1;
            int cols = Math.min(ix(ox, spec.kernelW() - 1), w - 1 + spec.padRight()) - ix(ox, 0) + 1;
            return rows * cols;
        }
    }

    @Override
    protected Workspace newMaxPoolWorkspace(Pool2dSpec spec, Shape x, dev.deepnet.tensor.Layout layout) { // layout: null here
        return new MaxPoolWorkspace(this, spec, x);
    }

    @Override
    protected void doMaxPool2dForward(Pool2dSpec spec, Tensor x, Tensor y, Workspace ws) {
        // x (N, C, H, W), y (N, C, oH, oW), ws: argmax per y element, or null
        PoolDims d = PoolDims.of(spec, x.shape());
        float[] xs = x.toArray();
        float[] ys = new float[d.n * d.c * d.oh * d.ow];
        long[] argmax = ws == null ? null : ((MaxPoolWorkspace) ws).argmax;
        for (int nc = 0; nc < d.n * d.c; nc++) { // (n, c) pairs: planes of H x W
            for (int oy = 0; oy < d.oh; oy++) {
                for (int ox = 0; ox < d.ow; ox++) {
                    // Padding is -infinity, so never chosen; ties keep the first in row-major window order (strict >).
                    // Pool2dSpec's padding < window guarantees at least one real position per window.
                    int best = -1;
                    float bestValue = Float.NEGATIVE_INFINITY;
                    for (int ky = 0; ky < spec.kernelH(); ky++) {
                        int iy = d.iy(oy, ky);
                        if (iy < 0 || iy >= d.h) {
                            continue;
                        }
                        for (int kx = 0; kx < spec.kernelW(); kx++) {
                            int ix = d.ix(ox, kx);
                            if (ix < 0 || ix >= d.w) {
                                continue;
                            }
                            int i = (nc * d.h + iy) * d.w + ix;
                            if (best < 0 || xs[i] > bestValue) {
                                best = i;
                                bestValue = xs[i];
                            }
                        }
                    }
                    int o = (nc * d.oh + oy) * d.ow + ox;
                    ys[o] = bestValue;
                    if (argmax != null) {
                        argmax[o] = best;
                    }
                }
            }
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doMaxPool2dBackward(Pool2dSpec spec, Tensor dy, Workspace ws, Tensor dx) {
        // dy (N, C, oH, oW), ws: argmax from the forward pass, dx (N, C, H, W): dx = 0, then dx[argmax[o]] += dy[o]
        long[] argmax = ((MaxPoolWorkspace) ws).argmax;
        float[] dys = dy.toArray();
        double[] acc = new double[Math.toIntExact(dx.size())];
        for (int o = 0; o < dys.length; o++) {
            acc[(int) argmax[o]] += dys[o];
        }
        dx.copyFrom(toFloats(acc));
    }

    @Override
    protected void doAvgPool2dForward(Pool2dSpec spec, Tensor x, Tensor y) {
        // x (N, C, H, W), y (N, C, oH, oW)
        PoolDims d = PoolDims.of(spec, x.shape());
        float[] xs = x.toArray();
        float[] ys = new float[d.n * d.c * d.oh * d.ow];
        for (int nc = 0; nc < d.n * d.c; nc++) {
            for (int oy = 0; oy < d.oh; oy++) {
                for (int ox = 0; ox < d.ow; ox++) {
                    double s = 0;
                    for (int ky = 0; ky < spec.kernelH(); ky++) {
                        int iy = d.iy(oy, ky);
                        if (iy < 0 || iy >= d.h) {
                            continue;
                        }
                        for (int kx = 0; kx < spec.kernelW(); kx++) {
                            int ix = d.ix(ox, kx);
                            if (ix < 0 || ix >= d.w) {
                                continue;
                            }
                            s += xs[(nc * d.h + iy) * d.w + ix];
                        }
                    }
                    ys[(nc * d.oh + oy) * d.ow + ox] = (float) (s / d.divisor(oy, ox));
                }
            }
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doAvgPool2dBackward(Pool2dSpec spec, Tensor dy, Tensor dx) {
        // dy (N, C, oH, oW), dx (N, C, H, W): each dy / divisor added to every real position of its window
        PoolDims d = PoolDims.of(spec, dx.shape());
        float[] dys = dy.toArray();
        double[] acc = new double[d.n * d.c * d.h * d.w];
        for (int nc = 0; nc < d.n * d.c; nc++) {
            for (int oy = 0; oy < d.oh; oy++) {
                for (int ox = 0; ox < d.ow; ox++) {
                    double g = dys[(nc * d.oh + oy) * d.ow + ox] / (double) d.divisor(oy, ox);
                    for (int ky = 0; ky < spec.kernelH(); ky++) {
                        int iy = d.iy(oy, ky);
                        if (iy < 0 || iy >= d.h) {
                            continue;
                        }
                        for (int kx = 0; kx < spec.kernelW(); kx++) {
                            int ix = d.ix(ox, kx);
                            if (ix < 0 || ix >= d.w) {
                                continue;
                            }
                            acc[(nc * d.h + iy) * d.w + ix] += g;
                        }
                    }
                }
            }
        }
        dx.copyFrom(toFloats(acc));
    }

    /** PyTorch's adaptive bin i of {@code out} over {@code in}: from floor(i in / out) to ceil((i + 1) in / out), exclusive. */
    private static int binStart(int i, int in, int out) {
        return (int) ((long) i * in / out);
    }

    private static int binEnd(int i, int in, int out) {
        return (int) (((long) (i + 1) * in + out - 1) / out);
    }

    @Override
    protected void doAdaptiveAvgPool2dForward(Tensor x, Tensor y) {
        // x (N, C, H, W), y (N, C, oH, oW): each output the mean of its bin
        int planes = x.shape().intDim(0) * x.shape().intDim(1);
        int h = x.shape().intDim(2), w = x.shape().intDim(3), oh = y.shape().intDim(2), ow = y.shape().intDim(3);
        float[] xs = x.toArray();
        float[] ys = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double s = 0;
                    int y0 = binStart(i, h, oh), y1 = binEnd(i, h, oh), x0 = binStart(j, w, ow), x1 = binEnd(j, w, ow);
                    for (int r = y0; r < y1; r++) {
                        for (int c = x0; c < x1; c++) {
                            s += xs[(p * h + r) * w + c];
                        }
                    }
                    ys[(p * oh + i) * ow + j] = (float) (s / ((y1 - y0) * (x1 - x0)));
                }
            }
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doAdaptiveAvgPool2dBackward(Tensor dy, Tensor dx) {
        // dy (N, C, oH, oW), dx (N, C, H, W): each dy / its bin's size added to every position of its bin
        int planes = dx.shape().intDim(0) * dx.shape().intDim(1);
        int h = dx.shape().intDim(2), w = dx.shape().intDim(3), oh = dy.shape().intDim(2), ow = dy.shape().intDim(3);
        float[] dys = dy.toArray();
        double[] acc = new double[planes * h * w];
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    int y0 = binStart(i, h, oh), y1 = binEnd(i, h, oh), x0 = binStart(j, w, ow), x1 = binEnd(j, w, ow);
                    double g = dys[(p * oh + i) * ow + j] / (double) ((y1 - y0) * (x1 - x0));
                    for (int r = y0; r < y1; r++) {
                        for (int c = x0; c < x1; c++) {
                            acc[(p * h + r) * w + c] += g;
                        }
                    }
                }
            }
        }
        dx.copyFrom(toFloats(acc));
    }

    // ---------------------------------------------------------------- element-wise

    @Override
    protected void doActivationForward(Activation f, Tensor x, Tensor y) {
        // x, y: any shape, equal
        float[] xs = x.toArray();
        float[] ys = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            double v = xs[i];
            ys[i] = (float) switch (f) {
                case SIGMOID -> 1.0 / (1.0 + Math.exp(-v));
                case RELU -> v > 0 ? v : 0.0;
                case TANH -> Math.tanh(v);
                case LINEAR -> v;
            };
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doActivationBackward(Activation f, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        // x, y = f(x), dy, dx: any shape, equal
        float[] xs = x.toArray();
        float[] ys = y.toArray();
        float[] dys = dy.toArray();
        float[] dxs = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            double g = dys[i];
            double out = ys[i];
            dxs[i] = (float) switch (f) {
                case SIGMOID -> g * out * (1.0 - out);
                case RELU -> xs[i] > 0 ? g : 0.0;
                case TANH -> g * (1.0 - out * out);
                case LINEAR -> g;
            };
        }
        dx.copyFrom(dxs);
    }

    @Override
    protected void doClipForward(float min, float max, Tensor x, Tensor y) {
        float[] xs = x.toArray();
        for (int i = 0; i < xs.length; i++) {
            xs[i] = Math.min(Math.max(xs[i], min), max);
        }
        y.copyFrom(xs);
    }

    @Override
    protected void doClipBackward(float min, float max, Tensor x, Tensor dy, Tensor dx) {
        float[] xs = x.toArray();
        float[] dys = dy.toArray();
        for (int i = 0; i < xs.length; i++) {
            dys[i] = xs[i] > min && xs[i] < max ? dys[i] : 0f;
        }
        dx.copyFrom(dys);
    }

    // ---------------------------------------------------------------- softmax

    @Override
    protected void doSoftmaxForward(Tensor x, Tensor y, boolean log) {
        // x, y (N, C, ...): along dimension 1; element (n, c, j) at (n * C + c) * inner + j
        int n = x.shape().intDim(0);
        int classes = x.shape().intDim(1);
        int inner = Math.toIntExact(x.size() / ((long) n * classes));
        float[] xs = x.toArray();
        float[] ys = new float[xs.length];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < inner; j++) {
                int base = i * classes * inner + j;
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    max = Math.max(max, xs[base + c * inner]);
                }
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    sum += Math.exp(xs[base + c * inner] - max);
                }
                double logSum = Math.log(sum);
                for (int c = 0; c < classes; c++) {
                    double shifted = xs[base + c * inner] - max;
                    ys[base + c * inner] = (float) (log ? shifted - logSum : Math.exp(shifted) / sum);
                }
            }
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doSoftmaxBackward(Tensor y, Tensor dy, Tensor dx, boolean log) {
        // y, dy, dx (N, C, ...): y the forward output (log-probabilities when log)
        // softmax: dx = y * (dy - sum_c dy * y); log-softmax: dx = dy - exp(y) * sum_c dy
        int n = y.shape().intDim(0);
        int classes = y.shape().intDim(1);
        int inner = Math.toIntExact(y.size() / ((long) n * classes));
        float[] ys = y.toArray();
        float[] dys = dy.toArray();
        float[] dxs = new float[ys.length];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < inner; j++) {
                int base = i * classes * inner + j;
                double s = 0;
                for (int c = 0; c < classes; c++) {
                    int k = base + c * inner;
                    s += log ? dys[k] : (double) dys[k] * ys[k];
                }
                for (int c = 0; c < classes; c++) {
                    int k = base + c * inner;
                    dxs[k] = (float) (log ? dys[k] - Math.exp(ys[k]) * s : ys[k] * (dys[k] - s));
                }
            }
        }
        dx.copyFrom(dxs);
    }

    // ---------------------------------------------------------------- LRN

    /**
     * LRN's workspace holds nothing: the backward pass recomputes the normaliser d from x, which
     * it is given anyway. It exists so that the Ops contract (a workspace per forward/backward pair) holds.
     */
    private static final class LrnWorkspace extends Workspace {
        LrnWorkspace(Ops owner, LrnSpec spec, Shape input) {
            super(owner, spec, input, null);
        }

        @Override
        protected void free() {
            // nothing held
        }
    }

    @Override
    protected Workspace newLrnWorkspace(LrnSpec spec, Shape x, dev.deepnet.tensor.Layout layout) { // layout: null here
        return new LrnWorkspace(this, spec, x);
    }

    /**
     * d[n, c, h, w] = k + alpha / size * sum over c' in [c - (size-1)/2, c + (size-1)/2] ∩ [0, C) of x[n, c', h, w]^2.
     * x (N, C, H, W) flat; returns d with the same layout.
     */
    private static double[] lrnDenominator(LrnSpec spec, Shape shape, float[] xs) {
        int n = shape.intDim(0);
        int channels = shape.intDim(1);
        int plane = shape.intDim(2) * shape.intDim(3);
        int half = (spec.size() - 1) / 2;
        double[] d = new double[xs.length];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < channels; c++) {
                for (int p = 0; p < plane; p++) {
                    double s = 0;
                    for (int c2 = Math.max(0, c - half); c2 <= Math.min(channels - 1, c + half); c2++) {
                        double v = xs[(i * channels + c2) * plane + p];
                        s += v * v;
                    }
                    d[(i * channels + c) * plane + p] = spec.k() + (double) spec.alpha() / spec.size() * s;
                }
            }
        }
        return d;
    }

    @Override
    protected void doLrnForward(LrnSpec spec, Tensor x, Tensor y, Workspace ws) {
        // x, y (N, C, H, W): y = x * d^-beta; ws (empty) unused
        float[] xs = x.toArray();
        double[] d = lrnDenominator(spec, x.shape(), xs);
        float[] ys = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            ys[i] = (float) (xs[i] * Math.pow(d[i], -spec.beta()));
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doLrnBackward(LrnSpec spec, Tensor x, Tensor dy, Workspace ws, Tensor dx) {
        // x, dy, dx (N, C, H, W); ws (empty) unused, d recomputed from x
        // dx[c] = dy[c] * d[c]^-beta - 2 beta alpha / size * x[c] * sum over c' in window(c) of dy[c'] x[c'] d[c']^(-beta-1)
        int n = x.shape().intDim(0);
        int channels = x.shape().intDim(1);
        int plane = x.shape().intDim(2) * x.shape().intDim(3);
        int half = (spec.size() - 1) / 2;
        double beta = spec.beta();
        double scale = 2.0 * beta * spec.alpha() / spec.size();
        float[] xs = x.toArray();
        float[] dys = dy.toArray();
        double[] d = lrnDenominator(spec, x.shape(), xs);
        double[] t = new double[xs.length]; // dy[c'] x[c'] d[c']^(-beta-1)
        for (int i = 0; i < xs.length; i++) {
            t[i] = (double) dys[i] * xs[i] * Math.pow(d[i], -beta - 1);
        }
        float[] dxs = new float[xs.length];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < channels; c++) {
                for (int p = 0; p < plane; p++) {
                    int k = (i * channels + c) * plane + p;
                    double s = 0;
                    for (int c2 = Math.max(0, c - half); c2 <= Math.min(channels - 1, c + half); c2++) {
                        s += t[(i * channels + c2) * plane + p];
                    }
                    dxs[k] = (float) (dys[k] * Math.pow(d[k], -beta) - scale * xs[k] * s);
                }
            }
        }
        dx.copyFrom(dxs);
    }

    // ---------------------------------------------------------------- batch normalisation

    /** x (N, C, H, W) row-major: element (n, c, p) of channel c's plane at (n * C + c) * plane + p. */
    private record NormDims(int n, int c, int plane) {
        static NormDims of(Shape x) {
            return new NormDims(x.intDim(0), x.intDim(1), x.intDim(2) * x.intDim(3));
        }

        int index(int i, int ch, int p) {
            return (i * c + ch) * plane + p;
        }

        int count() {
            return n * plane;
        }
    }

    @Override
    protected void doBatchNormTrainingForward(BatchNormSpec spec, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean,
            Tensor variance, Tensor runningMean, Tensor runningVariance) {
        // x (N, C, H, W); per channel: mean, biased variance over N, H, W; then normalise with them
        NormDims d = NormDims.of(x.shape());
        float[] xs = x.toArray();
        float[] ms = new float[d.c];
        float[] vs = new float[d.c];
        for (int ch = 0; ch < d.c; ch++) {
            double sum = 0;
            for (int i = 0; i < d.n; i++) {
                for (int p = 0; p < d.plane; p++) {
                    sum += xs[d.index(i, ch, p)];
                }
            }
            double mu = sum / d.count();
            double sq = 0;
            for (int i = 0; i < d.n; i++) {
                for (int p = 0; p < d.plane; p++) {
                    double v = xs[d.index(i, ch, p)] - mu;
                    sq += v * v;
                }
            }
            ms[ch] = (float) mu;
            vs[ch] = (float) (sq / d.count());
        }
        mean.copyFrom(ms);
        variance.copyFrom(vs);
        doBatchNormInferenceForward(spec, x, gamma, beta, mean, variance, y);
        updateRunningStatistics(spec, d.count(), mean, variance, runningMean, runningVariance);
    }

    @Override
    protected void doBatchNormInferenceForward(BatchNormSpec spec, Tensor x, Tensor gamma, Tensor beta, Tensor mean,
            Tensor variance, Tensor y) {
        // y = gamma (x - mean) / sqrt(variance + epsilon) + beta, per channel
        NormDims d = NormDims.of(x.shape());
        float[] xs = x.toArray();
        float[] g = gamma.toArray();
        float[] b = beta.toArray();
        float[] ms = mean.toArray();
        float[] vs = variance.toArray();
        float[] ys = new float[xs.length];
        for (int ch = 0; ch < d.c; ch++) {
            double inv = 1 / Math.sqrt(vs[ch] + (double) spec.epsilon());
            for (int i = 0; i < d.n; i++) {
                for (int p = 0; p < d.plane; p++) {
                    int k = d.index(i, ch, p);
                    ys[k] = (float) (g[ch] * (xs[k] - ms[ch]) * inv + b[ch]);
                }
            }
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doBatchNormBackward(BatchNormSpec spec, boolean batchStatistics, Tensor x, Tensor dy, Tensor gamma, Tensor mean,
            Tensor variance, Tensor dx, Tensor dgamma, Tensor dbeta) {
        // xhat = (x - mean) inv, inv = 1 / sqrt(variance + epsilon); dbeta = sum dy, dgamma = sum dy xhat (over N, H, W).
        // Given statistics: dx = gamma inv dy. The batch's, which depend on x:
        // dx = gamma inv (dy - dbeta / M - xhat dgamma / M), M = N H W.
        NormDims d = NormDims.of(x.shape());
        float[] xs = x.toArray();
        float[] dys = dy.toArray();
        float[] g = gamma.toArray();
        float[] ms = mean.toArray();
        float[] vs = variance.toArray();
        float[] dxs = new float[xs.length];
        float[] dgs = new float[d.c];
        float[] dbs = new float[d.c];
        for (int ch = 0; ch < d.c; ch++) {
            double inv = 1 / Math.sqrt(vs[ch] + (double) spec.epsilon());
            double sumDy = 0;
            double sumDyXhat = 0;
            for (int i = 0; i < d.n; i++) {
                for (int p = 0; p < d.plane; p++) {
                    int k = d.index(i, ch, p);
                    sumDy += dys[k];
                    sumDyXhat += dys[k] * (xs[k] - ms[ch]) * inv;
                }
            }
            dgs[ch] = (float) sumDyXhat;
            dbs[ch] = (float) sumDy;
            for (int i = 0; i < d.n; i++) {
                for (int p = 0; p < d.plane; p++) {
                    int k = d.index(i, ch, p);
                    double grad = dys[k];
                    if (batchStatistics) {
                        grad -= (sumDy + (xs[k] - ms[ch]) * inv * sumDyXhat) / d.count();
                    }
                    dxs[k] = (float) (g[ch] * inv * grad);
                }
            }
        }
        dx.copyFrom(dxs);
        if (dgamma != null) {
            dgamma.copyFrom(dgs);
            dbeta.copyFrom(dbs);
        }
    }

    // ---------------------------------------------------------------- binary, sum, layout

    @Override
    protected void doAdd(Tensor a, Tensor b, Tensor y) {
        // a, b, y: any shape, equal
        float[] as = a.toArray();
        float[] bs = b.toArray();
        float[] ys = new float[as.length];
        for (int i = 0; i < as.length; i++) {
            ys[i] = as[i] + bs[i];
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doMultiply(Tensor a, Tensor b, Tensor y) {
        // a, b, y: any shape, equal
        float[] as = a.toArray();
        float[] bs = b.toArray();
        float[] ys = new float[as.length];
        for (int i = 0; i < as.length; i++) {
            ys[i] = as[i] * bs[i];
        }
        y.copyFrom(ys);
    }

    @Override
    protected void doSum(List<Tensor> inputs, Tensor y) {
        // each input and y: any shape, all equal
        double[] acc = new double[Math.toIntExact(y.size())];
        for (Tensor t : inputs) {
            float[] ts = t.toArray();
            for (int i = 0; i < acc.length; i++) {
                acc[i] += ts[i];
            }
        }
        y.copyFrom(toFloats(acc));
    }

    @Override
    protected void doAccumulate(Tensor src, Tensor dst) {
        // src, dst: any shape, equal: dst += src
        float[] ss = src.toArray();
        float[] ds = dst.toArray();
        for (int i = 0; i < ds.length; i++) {
            ds[i] += ss[i];
        }
        dst.copyFrom(ds);
    }

    @Override
    protected void doReorder(Tensor x, Tensor y) {
        y.copyFrom(x); // both row-major: this backend has no other layout
    }

    @Override
    protected void doPermute(Tensor x, int[] order, Tensor y) {
        // x (d0, ..., d{r-1}), y (d{order[0]}, ..., d{order[r-1]}): y[j] = x[i] with i[order[k]] = j[k]
        int rank = order.length;
        long[] xStrides = x.shape().strides();
        long[] yDims = y.shape().dims();
        long[] step = new long[rank]; // how far x's flat index moves when y's index k moves by one
        for (int k = 0; k < rank; k++) {
            step[k] = xStrides[order[k]];
        }
        float[] xs = x.toArray();
        float[] ys = new float[xs.length];
        long[] j = new long[rank]; // y's multi-index, counted in row-major order
        long xi = 0; // x's flat index for j
        for (int yi = 0; yi < ys.length; yi++) {
            ys[yi] = xs[(int) xi];
            for (int k = rank - 1; k >= 0; k--) { // odometer increment of j, keeping xi in step
                j[k]++;
                xi += step[k];
                if (j[k] < yDims[k]) {
                    break;
                }
                xi -= step[k] * j[k];
                j[k] = 0;
            }
        }
        y.copyFrom(ys);
    }

    // ---------------------------------------------------------------- helpers

    private static float[] toFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    /** Nothing to free: no caches. */
    @Override
    protected void free() {
    }
}
