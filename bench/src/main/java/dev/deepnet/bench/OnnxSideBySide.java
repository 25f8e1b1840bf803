package dev.deepnet.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Plan;
import dev.deepnet.onnx.OnnxFile;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One {@code .onnx} file on deepnet (imported by {@link OnnxFile#load}, a compiled inference plan
 * on the default backend) and on ONNX Runtime (its default, fully optimising session, as many
 * intra-op threads as cores), the same random input, batch by batch, interleaved over rounds so
 * that machine noise hits both alike; prints each median time per call and the ratio (ONNX
 * Runtime's time / deepnet's: above 1, deepnet is faster), and checks the two agree.
 *
 * <p>{@code scripts/bench-onnx FILE [--batches 1,32] [--rounds 3] [--seconds 2]}
 */
public final class OnnxSideBySide {

    private OnnxSideBySide() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int[] batches = {1, 32};
        int rounds = 3;
        double seconds = 2;
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--batches" -> batches = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        int cores = Runtime.getRuntime().availableProcessors();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (Model model = OnnxFile.load(file); Ops ops = Backend.newDefaultOps();
             OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(cores);
            try (OrtSession session = env.createSession(file.toString(), options)) {
                String inputName = session.getInputNames().iterator().next();
                long[] sample = model.sampleShape().dims();
                double[][] deepnet = new double[batches.length][rounds];
                double[][] ort = new double[batches.length][rounds];
                List<Plan> plans = new ArrayList<>();
                try {
                    for (int b : batches) {
                        plans.add(model.compileForInference(ops, b));
                    }
                    System.out.printf(Locale.ROOT, "%s: %,d parameters, input %s; deepnet on %s, ONNX Runtime %s with %d threads%n",
                            file.getFileName(), model.parameterCount(), model.sampleShape(), ops.name(), env.getVersion(), cores);
                    for (int r = 0; r < rounds; r++) {
                        for (int k = 0; k < batches.length; k++) {
                            int b = batches[k];
                            Plan plan = plans.get(k);
                            float[] x = random(b * model.sampleShape().size(), 17 + k);
                            plan.input().copyFrom(x);
                            deepnet[k][r] = medianMs(() -> plan.forward(false), seconds);
                            long[] shape = new long[sample.length + 1];
                            shape[0] = b;
                            System.arraycopy(sample, 0, shape, 1, sample.length);
                            try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape)) {
                                Map<String, OnnxTensor> feed = Map.of(inputName, in);
                                float[] theirs = new float[Math.toIntExact(plan.output().size())];
                                ort[k][r] = medianMs(() -> {
                                    try (OrtSession.Result out = session.run(feed)) {
                                        ((OnnxTensor) out.get(0)).getFloatBuffer().get(theirs);
                                    } catch (ai.onnxruntime.OrtException e) {
                                        throw new IllegalStateException(e);
                                    }
                                }, seconds);
                                if (r == 0) {
                                    System.out.printf(Locale.ROOT, "  batch %d: largest difference from ONNX Runtime %.2e (largest |output| %.2e)%n",
                                            b, maxDiff(plan.output().toArray(), theirs), maxAbs(theirs));
                                }
                            }
                            System.out.printf(Locale.ROOT, "  round %d, batch %d: deepnet %.2f ms, ONNX Runtime %.2f ms%n", r + 1, b,
                                    deepnet[k][r], ort[k][r]);
                        }
                    }
                } finally {
                    plans.forEach(Plan::close);
                }
                System.out.println();
                System.out.println("| batch | deepnet | ONNX Runtime | ratio (ORT time / deepnet time) |");
                System.out.println("|---|---|---|---|");
                for (int k = 0; k < batches.length; k++) {
                    double d = median(deepnet[k]), o = median(ort[k]);
                    System.out.printf(Locale.ROOT, "| %d | %.2f ms (%.1f images/s) | %.2f ms (%.1f images/s) | %.2f |%n", batches[k], d,
                            batches[k] * 1000 / d, o, batches[k] * 1000 / o, o / d);
                }
            }
        }
    }

    /** The median time of one call over about {@code seconds} (at least 5 calls), after 3 warm-up calls. */
    private static double medianMs(Runnable call, double seconds) {
        for (int i = 0; i < 3; i++) {
            call.run();
        }
        List<Double> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (times.size() < 5 || System.nanoTime() < end) {
            long t = System.nanoTime();
            call.run();
            times.add((System.nanoTime() - t) / 1e6);
        }
        return median(times.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static float[] random(long n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[Math.toIntExact(n)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
