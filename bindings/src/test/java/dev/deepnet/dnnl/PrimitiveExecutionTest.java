package dev.deepnet.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real oneDNN primitives through the owning handles, checked against plain Java loops. */
class PrimitiveExecutionTest {

    private static Engine engine;
    private static Stream stream;

    @BeforeAll
    static void open() {
        engine = Engine.cpu();
        stream = new Stream(engine);
    }

    @AfterAll
    static void close() {
        stream.close();
        engine.close();
    }

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    /** max |actual - expected| / max(|expected|, 1): relative for large values, absolute near zero. */
    static double maxRelativeError(float[] actual, double[] expected) {
        assertEquals(expected.length, actual.length);
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1.0));
        }
        return worst;
    }

    static Memory plain(long[] dims, float[] values) {
        Memory m;
        try (MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.plain(dims.length), dims)) {
            m = Memory.allocate(md, engine);
        }
        if (values != null) {
            MemorySegment.copy(values, 0, m.data(), ValueLayout.JAVA_FLOAT, 0, values.length);
        }
        return m;
    }

    /** Brings a plain memory into the layout a primitive asked for (a no-op copy when they match). */
    static Memory into(MemoryDesc wanted, Memory plain) {
        Memory m = Memory.allocate(wanted, engine);
        try (PrimitiveDesc pd = PrimitiveDesc.reorder(engine, plain.desc(), wanted, null); Primitive reorder = new Primitive(pd)) {
            reorder.execute(stream, Map.of(Arg.FROM, plain, Arg.TO, m));
        }
        return m;
    }

    static float[] toPlain(Memory m, long[] dims) {
        try (Memory p = plain(dims, null);
             PrimitiveDesc pd = PrimitiveDesc.reorder(engine, m.desc(), p.desc(), null);
             Primitive reorder = new Primitive(pd)) {
            reorder.execute(stream, Map.of(Arg.FROM, m, Arg.TO, p));
            return p.data().toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    @Test
    void matmulOf64x128By128x32MatchesJava() {
        int m = 64, k = 128, n = 32;
        float[] a = random(m * k, 1), b = random(k * n, 2), bias = random(n, 3);
        try (MemoryDesc src = MemoryDesc.of(DataType.F32, FormatTag.AB, m, k);
             MemoryDesc wei = MemoryDesc.of(DataType.F32, FormatTag.AB, k, n);
             MemoryDesc bia = MemoryDesc.of(DataType.F32, FormatTag.AB, 1, n);
             MemoryDesc dst = MemoryDesc.of(DataType.F32, FormatTag.AB, m, n);
             PrimitiveDesc pd = PrimitiveDesc.matmul(engine, src, wei, bia, dst, null);
             Primitive matmul = new Primitive(pd);
             Memory ma = plain(new long[] {m, k}, a);
             Memory mb = plain(new long[] {k, n}, b);
             Memory mbias = plain(new long[] {1, n}, bias);
             Memory mc = plain(new long[] {m, n}, null)) {
            matmul.execute(stream, Map.of(Arg.SRC, ma, Arg.WEIGHTS, mb, Arg.BIAS, mbias, Arg.DST, mc));
            double[] expected = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = bias[j];
                    for (int p = 0; p < k; p++) {
                        s += (double) a[i * k + p] * b[p * n + j];
                    }
                    expected[i * n + j] = s;
                }
            }
            double err = maxRelativeError(mc.data().toArray(ValueLayout.JAVA_FLOAT), expected);
            assertTrue(err <= 1e-4, "max relative error " + err);
            assertFalse(matmul.implementation().isEmpty());
        }
    }

    /** N=2, 3x17x19 input, 5 kernels 3x3, stride 2, padding 1; layouts chosen by oneDNN ("any"). */
    @Test
    void convolutionForwardWithLayoutsChosenByOneDnnMatchesJava() {
        int n = 2, c = 3, h = 17, w = 19, o = 5, kh = 3, kw = 3, stride = 2, pad = 1;
        int oh = (h + 2 * pad - kh) / stride + 1, ow = (w + 2 * pad - kw) / stride + 1; // 9 x 10
        float[] x = random(n * c * h * w, 11), wt = random(o * c * kh * kw, 12), bias = random(o, 13);
        long[] srcDims = {n, c, h, w}, weiDims = {o, c, kh, kw}, dstDims = {n, o, oh, ow};
        try (MemoryDesc src = MemoryDesc.of(DataType.F32, FormatTag.ANY, srcDims);
             MemoryDesc wei = MemoryDesc.of(DataType.F32, FormatTag.ANY, weiDims);
             MemoryDesc bia = MemoryDesc.of(DataType.F32, FormatTag.A, o);
             MemoryDesc dst = MemoryDesc.of(DataType.F32, FormatTag.ANY, dstDims);
             PrimitiveDesc pd = PrimitiveDesc.convolutionForward(engine, PropKind.FORWARD_INFERENCE, Algorithm.CONVOLUTION_DIRECT,
                     src, wei, bia, dst, new long[] {stride, stride}, new long[] {0, 0}, new long[] {pad, pad},
                     new long[] {pad, pad}, null);
             Primitive conv = new Primitive(pd);
             Memory px = plain(srcDims, x);
             Memory pw = plain(weiDims, wt);
             Memory mx = into(pd.srcDesc(), px);
             Memory mw = into(pd.weightsDesc(), pw);
             Memory mb = plain(new long[] {o}, bias);
             Memory my = Memory.allocate(pd.dstDesc(), engine)) {
            conv.execute(stream, Map.of(Arg.SRC, mx, Arg.WEIGHTS, mw, Arg.BIAS, mb, Arg.DST, my));
            double[] expected = new double[n * o * oh * ow];
            for (int in = 0; in < n; in++) {
                for (int oc = 0; oc < o; oc++) {
                    for (int y = 0; y < oh; y++) {
                        for (int z = 0; z < ow; z++) {
                            double s = bias[oc];
                            for (int ic = 0; ic < c; ic++) {
                                for (int i = 0; i < kh; i++) {
                                    for (int j = 0; j < kw; j++) {
                                        int iy = y * stride - pad + i, iz = z * stride - pad + j;
                                        if (iy >= 0 && iy < h && iz >= 0 && iz < w) {
                                            s += (double) x[((in * c + ic) * h + iy) * w + iz] * wt[((oc * c + ic) * kh + i) * kw + j];
                                        }
                                    }
                                }
                            }
                            expected[((in * o + oc) * oh + y) * ow + z] = s;
                        }
                    }
                }
            }
            double err = maxRelativeError(toPlain(my, dstDims), expected);
            assertTrue(err <= 1e-4, "max relative error " + err + " (" + conv.implementation() + ")");
        }
    }

    @Test
    void executingAgainAndAgainWithOneArgumentListGivesTheSameResult() {
        try (MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, 4, 4);
             PrimitiveDesc pd = PrimitiveDesc.matmul(engine, md, md, null, md, null);
             Primitive matmul = new Primitive(pd);
             Memory a = plain(new long[] {4, 4}, random(16, 5));
             Memory c = plain(new long[] {4, 4}, null);
             ExecArgs args = new ExecArgs(3).set(Arg.SRC, a).set(Arg.WEIGHTS, a).set(Arg.DST, c)) {
            matmul.execute(stream, args);
            float[] first = c.data().toArray(ValueLayout.JAVA_FLOAT);
            for (int i = 0; i < 1000; i++) {
                matmul.execute(stream, args);
            }
            assertEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(c.data().toArray(ValueLayout.JAVA_FLOAT)));
        }
    }

    @Test
    void memoryDescriptorsReportWhatTheyDescribe() {
        try (MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.NHWC, 2, 3, 5, 7)) {
            assertEquals(4, md.ndims());
            assertEquals("[2, 3, 5, 7]", java.util.Arrays.toString(md.dims()));
            assertEquals("[105, 1, 21, 3]", java.util.Arrays.toString(md.strides()), "channels-last strides");
            assertEquals(DataType.F32, md.dataType());
            assertEquals(2L * 3 * 5 * 7 * 4, md.sizeInBytes());
            assertEquals("f32 (2, 3, 5, 7) strides (105, 1, 21, 3)", md.toString());
            try (MemoryDesc same = MemoryDesc.withStrides(DataType.F32, new long[] {2, 3, 5, 7}, new long[] {105, 1, 21, 3});
                 MemoryDesc other = MemoryDesc.of(DataType.F32, FormatTag.NCHW, 2, 3, 5, 7)) {
                assertTrue(md.sameLayout(same));
                assertFalse(md.sameLayout(other));
            }
        }
    }
}
