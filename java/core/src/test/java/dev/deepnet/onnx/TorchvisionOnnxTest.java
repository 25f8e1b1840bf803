package dev.deepnet.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * torchvision's classifiers, exported by {@code scripts/check-torchvision-onnx} with random weights,
 * imported by deepnet and run on oneDNN and on the reference backend against ONNX Runtime on the same
 * seeded input. Skipped unless {@code -Ddeepnet.torchvision.dir=FOLDER} names the folder of
 * {@code .onnx} files. Prints one line per model and a summary table (also written to
 * {@code FOLDER/summary.md}); fails if any model does not import or is off by more than 1e-4.
 *
 * <p>The error is OnnxCheck's: |deepnet - ORT| over the larger of |ORT| and the RMS of ORT's output,
 * the worst element; beside it |deepnet - ORT| over max |ORT|. {@code -Ddeepnet.torchvision.batch}
 * (default 2) is the batch; {@code -Ddeepnet.torchvision.reference.maxflops} (default 1e12 FLOPs per
 * sample: all of them) skips the plain-Java reference backend on bigger models.
 */
class TorchvisionOnnxTest {
    static final String DIR = "deepnet.torchvision.dir";
    static final double TOLERANCE = 1e-4;

    record Row(String model, String imported, String params, String flops, String outputRms, String onednn, String reference,
            boolean pass) {}

    @Test
    void torchvisionModelsAgreeWithOnnxRuntime() throws Exception {
        String dir = System.getProperty(DIR);
        Assumptions.assumeTrue(dir != null && !dir.isBlank(), "set -D" + DIR
                + "=FOLDER of torchvision .onnx exports (scripts/check-torchvision-onnx does) to run this check");
        Path folder = Path.of(dir);
        int batch = Integer.getInteger("deepnet.torchvision.batch", 2);
        double refMaxFlops = Double.parseDouble(System.getProperty("deepnet.torchvision.reference.maxflops", "1e12"));
        List<Path> files;
        try (Stream<Path> s = Files.list(folder)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".onnx")).sorted().toList();
        }
        assertTrue(!files.isEmpty(), "no .onnx files in " + folder);

        List<Row> rows = new ArrayList<>();
        try (Ops onednn = Backend.ONEDNN.newOps(1); Ops reference = Backend.REFERENCE.newOps()) {
            for (Path file : files) {
                rows.add(check(file, batch, onednn, reference, refMaxFlops));
            }
        }

        StringBuilder t = new StringBuilder();
        t.append(String.format(Locale.ROOT, "torchvision -> ONNX -> deepnet vs ONNX Runtime 1.23 (batch %d, input U[-1,1), tolerance %.0e)%n%n",
                batch, TOLERANCE));
        t.append("| model | imported | parameters | FLOPs/sample | ORT output RMS | max rel. error oneDNN | max rel. error reference | pass |\n");
        t.append("|---|---|---:|---:|---:|---:|---:|---|\n");
        for (Row r : rows) {
            t.append("| ").append(String.join(" | ", r.model, r.imported, r.params, r.flops, r.outputRms, r.onednn, r.reference,
                    r.pass ? "yes" : "**no**")).append(" |\n");
        }
        System.out.println();
        System.out.print(t);
        Files.writeString(folder.resolve("summary.md"), t.toString());
        List<String> failed = rows.stream().filter(r -> !r.pass).map(Row::model).toList();
        assertTrue(failed.isEmpty(), "did not import or agree within " + TOLERANCE + ": " + failed);
    }

    private static Row check(Path file, int batch, Ops onednn, Ops reference, double refMaxFlops) throws Exception {
        String name = file.getFileName().toString().replaceFirst("\\.onnx$", "");
        Model model;
        try {
            model = OnnxFile.load(file);
        } catch (IOException | RuntimeException e) {
            String msg = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString());
            System.out.println(name + ": imported no: " + e.getClass().getSimpleName() + ": " + msg);
            return new Row(name, "no: " + msg.replace("|", "\\|"), "", "", "", "", "", false);
        }
        try (model; OrtSession session = OnnxCheck.session(file.toString())) {
            Shape shape = model.inputShape(batch);
            float[] input = OnnxCheck.random(shape.size(), 13);
            float[] expected = OnnxCheck.run(session, input, shape);
            float[] viaOnednn = OnnxCheck.run(model, onednn, input, batch);
            double[] e1 = error(expected, viaOnednn);
            boolean pass = e1[0] <= TOLERANCE;
            String ref = "skipped";
            if (model.flopsPerSample() <= refMaxFlops) {
                double[] e2 = error(expected, OnnxCheck.run(model, reference, input, batch));
                ref = fmt(e2);
                pass &= e2[0] <= TOLERANCE;
            }
            Row r = new Row(name, "yes", String.format(Locale.ROOT, "%,d", model.parameterCount()),
                    String.format(Locale.ROOT, "%.2f G", model.flopsPerSample() / 1e9), String.format(Locale.ROOT, "%.3g", rms(expected)),
                    fmt(e1), ref, pass);
            System.out.println(name + ": imported yes, " + r.params + " parameters; max rel. error oneDNN " + r.onednn
                    + ", reference " + r.reference + "; " + (pass ? "pass" : "FAIL") + " at " + TOLERANCE);
            return r;
        }
    }

    static double rms(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s / Math.max(1, v.length));
    }

    /** {OnnxCheck's error (over max(|e|, rms)), |diff| over max |e|}, the worst element of each. */
    static double[] error(float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            return new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
        }
        double rms = 0;
        double maxAbs = 0;
        for (float v : expected) {
            rms += (double) v * v;
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        rms = Math.sqrt(rms / Math.max(1, expected.length));
        double worst = 0;
        double worstDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            double err = d / Math.max(Math.max(Math.abs(expected[i]), rms), 1e-30);
            worst = err <= worst ? worst : err; // NaN wins
            worstDiff = d <= worstDiff ? worstDiff : d;
        }
        return new double[] {worst, worstDiff / Math.max(maxAbs, 1e-30)};
    }

    private static String fmt(double[] e) {
        return String.format(Locale.ROOT, "%.1e (%.1e of max)", e[0], e[1]);
    }
}
