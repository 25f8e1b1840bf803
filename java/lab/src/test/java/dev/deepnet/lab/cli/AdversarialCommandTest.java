package dev.deepnet.lab.cli;

import static dev.deepnet.lab.cli.TrainPredictBenchCommandTest.assertPng;
import static dev.deepnet.lab.cli.TrainPredictBenchCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.io.ModelFile;
import dev.deepnet.lab.cli.TrainPredictBenchCommandTest.Run;
import dev.deepnet.lab.experiments.FashionClassifier;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Model;
import dev.deepnet.tensor.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deepnet adversarial} and {@code deepnet fool} on a saved Fashion-MNIST classifier, as a user runs them. */
class AdversarialCommandTest {

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void saveTheLabsClassifier() throws Exception {
        model = FashionClassifier.save(dir.resolve("fashion.safetensors"));
    }

    @Test
    void adversarialPrintsTheSuccessRatePerBudgetAndDrawsIt() throws Exception {
        Path out = dir.resolve("adversarial");
        Run r = run("adversarial", "--model", model.toString(), "--images", "100", "--eps", "0.02,0.1", "--target", "bag", "--examples", "3",
                "--out", out.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("100 correctly labelled Fashion-MNIST test images (seed 7)"), r.out());
        Matcher row = Pattern.compile("(?m)^(0\\.\\d+)\\s+(\\d+\\.\\d)%\\s+(\\d+\\.\\d)%\\s+(\\d+\\.\\d)%").matcher(r.out());
        double[][] rates = new double[2][];
        int rows = 0;
        while (row.find()) {
            rates[rows++] = new double[] {Double.parseDouble(row.group(1)), Double.parseDouble(row.group(2)), Double.parseDouble(row.group(3)),
                    Double.parseDouble(row.group(4))};
        }
        assertEquals(2, rows, "one row per budget: " + r.out());
        assertEquals(0.02, rates[0][0]);
        assertEquals(0.1, rates[1][0]);
        assertTrue(rates[1][2] >= 90, "the iterative attack flips >= 90% within 0.1: " + r.out());
        assertTrue(rates[1][2] >= rates[0][2] && rates[1][1] >= rates[0][1], "a larger budget flips more: " + r.out());
        assertTrue(rates[1][2] >= rates[1][1], "iterative at least as strong as FGSM: " + r.out());
        assertTrue(r.out().contains("targeted (Bag)") && r.out().contains("-> Bag"), r.out());
        assertPng(out.resolve("adversarial-success.png"));
        assertPng(out.resolve("adversarial-examples.png"));
    }

    @Test
    void foolMakesImagesTheNetIsSureOf() throws Exception {
        Path out = dir.resolve("fool");
        Run r = run("fool", "--model", model.toString(), "--class", "Bag,trouser,3", "--out", out.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        Matcher line = Pattern.compile("(?m)^(\\S[\\S ]*?)\\s+(0\\.\\d{4}) after (\\d+) steps$").matcher(r.out());
        List<String> expected = List.of("Bag", "Trouser", "Dress");
        int n = 0;
        while (line.find()) {
            assertEquals(expected.get(n), line.group(1).strip());
            assertTrue(Double.parseDouble(line.group(2)) >= 0.99, line.group());
            n++;
        }
        assertEquals(3, n, r.out());
        assertTrue(r.out().contains("3 of 3 reached 0.9900"), r.out());
        assertPng(out.resolve("fooling-images.png"));
    }

    @Test
    void aMissingOrIncompatibleModelIsNamed() throws Exception {
        Run missing = run("adversarial", "--model", dir.resolve("nope.safetensors").toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("--model " + dir.resolve("nope.safetensors") + ": no such file"), missing.err());

        Path junk = Files.writeString(dir.resolve("junk.safetensors"), "not a model");
        Run notAModel = run("fool", "--model", junk.toString());
        assertEquals(2, notAModel.exit());
        assertTrue(notAModel.err().contains("not a model deepnet can load"), notAModel.err());

        Path features = dir.resolve("features.safetensors");
        try (Model conv = Model.sequential(Shape.of(1, 28, 28), 1, new Conv2d(1, 2, 3, 1, 1))) {
            ModelFile.save(conv, features);
        }
        Run notAClassifier = run("fool", "--model", features.toString());
        assertEquals(2, notAClassifier.exit());
        assertTrue(notAClassifier.err().contains(": not a classifier: a classifier outputs one score per class, but this model's output per sample is (2, 28, 28)"), notAClassifier.err());

        Path small = dir.resolve("small.safetensors");
        try (Model net = Model.sequential(Shape.of(1, 8, 8), 1, new Flatten(), new Dense(64, 10))) {
            ModelFile.save(net, small, List.of(), Map.of());
        }
        Run wrongShape = run("adversarial", "--model", small.toString());
        assertEquals(2, wrongShape.exit());
        assertTrue(wrongShape.err().contains("takes samples (1, 8, 8) but Fashion-MNIST images are (1, 28, 28)"), wrongShape.err());
    }

    @Test
    void badOptionsSayWhatIsWrong() {
        Run target = run("adversarial", "--model", model.toString(), "--target", "Car");
        assertEquals(2, target.exit());
        assertTrue(target.err().contains("--target Car is not a class of the model: give an index in [0, 10) or one of T-shirt/top"),
                target.err());
        Run eps = run("adversarial", "--model", model.toString(), "--eps", "-0.1");
        assertEquals(2, eps.exit());
        assertTrue(eps.err().contains("--eps: every budget must be in [0, 1]"), eps.err());
        Run start = run("fool", "--model", model.toString(), "--start", "stripes");
        assertEquals(2, start.exit());
        assertTrue(start.err().contains("--start must be noise or blank, not stripes"), start.err());
        Run cls = run("fool", "--model", model.toString(), "--class", "11");
        assertEquals(2, cls.exit());
        assertTrue(cls.err().contains("--class 11 is not a class of the model"), cls.err());
        Run confidence = run("fool", "--model", model.toString(), "--confidence", "1.5");
        assertEquals(2, confidence.exit());
        assertTrue(confidence.err().contains("--confidence must be in (0, 1), got 1.5"), confidence.err());
    }
}
