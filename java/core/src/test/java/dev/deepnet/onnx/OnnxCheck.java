package dev.deepnet.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.SplittableRandom;

/** ONNX Runtime as the oracle, deepnet's plans as the subject, and the comparison the ONNX tests share. */
final class OnnxCheck {
    private OnnxCheck() {}

    /** ONNX Runtime on one thread, all graph optimisations off: the model as written is what runs. */
    static OrtSession session(byte[] model) throws OrtException {
        return OrtEnvironment.getEnvironment().createSession(model, options());
    }

    /** A model with external data must be opened from its path, so that ONNX Runtime finds the data file. */
    static OrtSession session(String path) throws OrtException {
        return OrtEnvironment.getEnvironment().createSession(path, options());
    }

    private static OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(1);
        o.setInterOpNumThreads(1);
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
        return o;
    }

    /** ONNX Runtime's output for {@code input} shaped {@code shape}; the session's one input and output. */
    static float[] run(OrtSession session, float[] input, Shape shape) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        String name = session.getInputNames().iterator().next();
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), shape.dims());
                OrtSession.Result r = session.run(Map.of(name, x))) {
            OnnxTensor y = (OnnxTensor) r.get(0);
            FloatBuffer b = y.getFloatBuffer();
            float[] out = new float[b.remaining()];
            b.get(out);
            return out;
        }
    }

    /** deepnet's inference output for {@code input}, batch {@code batch}, on {@code ops}. */
    static float[] run(Model model, Ops ops, float[] input, int batch) {
        try (Plan plan = model.compileForInference(ops, batch)) {
            plan.input().copyFrom(input);
            plan.forward(false);
            return plan.output().toArray();
        }
    }

    /** Seeded uniform values in [-1, 1). */
    static float[] random(long n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    /**
     * Every element within 1e-4 relative: |actual - expected| over the larger of |expected| and the
     * RMS of all expected values (so values near zero are judged on the output's scale).
     */
    static void assertClose(String what, float[] expected, float[] actual) {
        assertArrayEquals(new int[] {expected.length}, new int[] {actual.length}, what + ": output sizes differ");
        double rms = 0;
        for (float v : expected) {
            rms += (double) v * v;
        }
        rms = Math.sqrt(rms / Math.max(1, expected.length));
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]) / Math.max(Math.max(Math.abs(expected[i]), rms), 1e-30);
            if (!(err <= worst)) {
                worst = err;
                at = i;
            }
        }
        if (!(worst <= 1e-4)) {
            fail(what + ": relative error " + worst + " > 1e-4 at flat index " + at + " (expected " + expected[at] + ", got "
                    + actual[at] + ")");
        }
    }
}
