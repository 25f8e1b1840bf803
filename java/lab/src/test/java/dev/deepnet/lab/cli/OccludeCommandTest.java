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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deepnet occlude on a saved classifier, as a user runs it, and its errors. */
class OccludeCommandTest {

    @Test
    void bandsKeepEachLabelAboveTheFloorAndSensitivityMapsTheDrop(@TempDir Path dir) throws Exception {
        Path model = FashionClassifier.save(dir.resolve("fashion.safetensors"));
        Run bands = run("occlude", "--model", model.toString(), "--images", "3", "--rounds", "8", "--out", dir.resolve("b").toString());
        assertEquals(0, bands.exit(), bands.out() + bands.err());
        Matcher m = Pattern.compile("#(\\d+) \\(([^)]+)\\): ([^ ]+(?: [^ ]+)?) (\\d\\.\\d\\d) -> kept at (\\d\\.\\d\\d); energy removed band 0"
                + " (\\d+)%").matcher(bands.out());
        int lines = 0;
        while (m.find()) {
            lines++;
            double after = Double.parseDouble(m.group(5));
            assertTrue(after >= 0.5, "the label is kept at p >= 0.5 (the default floor): " + m.group());
        }
        assertEquals(3, lines, bands.out());
        Matcher mean = Pattern.compile("mean share of each band's energy removed with the label kept: band 0 (\\d+)%, band 1 (\\d+)%,"
                + " band 2 (\\d+)%, low-pass (\\d+)%").matcher(bands.out());
        assertTrue(mean.find(), bands.out());
        assertTrue(Integer.parseInt(mean.group(1)) > 0, "something was removed: " + mean.group());
        assertPng(dir.resolve("b/bands.png"));

        Run maps = run("occlude", "--model", model.toString(), "--images", "2", "--mode", "sensitivity", "--out",
                dir.resolve("s").toString());
        assertEquals(0, maps.exit(), maps.out() + maps.err());
        Matcher drop = Pattern.compile("p (\\d\\.\\d\\d); largest drop (-?\\d\\.\\d\\d) with the patch at \\((\\d+), (\\d+)\\)")
                .matcher(maps.out());
        int found = 0;
        while (drop.find()) {
            found++;
            assertTrue(Double.parseDouble(drop.group(2)) <= Double.parseDouble(drop.group(1)) + 1e-9, "a drop is at most the probability");
            assertTrue(Integer.parseInt(drop.group(3)) <= 22 && Integer.parseInt(drop.group(4)) <= 22, "a 6x6 patch inside 28x28");
        }
        assertEquals(2, found, maps.out());
        assertPng(dir.resolve("s/sensitivity.png"));
    }

    @Test
    void aMissingUnreadableOrIncompatibleModelIsNamed(@TempDir Path dir) throws Exception {
        Run missing = run("occlude", "--model", dir.resolve("nope.safetensors").toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("nope.safetensors: no such file"), missing.err());

        Path text = Files.writeString(dir.resolve("notes.safetensors"), "not a model");
        Run garbage = run("occlude", "--model", text.toString());
        assertEquals(2, garbage.exit());
        assertTrue(garbage.err().contains("not a model deepnet can load"), garbage.err());

        Path colour = dir.resolve("colour.safetensors");
        try (Model m = Model.sequential(Shape.of(3, 32, 32), 1, new Flatten(), new Dense(3 * 32 * 32, 10))) {
            ModelFile.save(m, colour);
        }
        Run wrongShape = run("occlude", "--model", colour.toString());
        assertEquals(2, wrongShape.exit());
        assertTrue(wrongShape.err().contains("takes images (3, 32, 32) but fashion-mnist's are (1, 28, 28)"), wrongShape.err());

        Path features = dir.resolve("features.safetensors");
        try (Model m = Model.sequential(Shape.of(1, 28, 28), 1, new Conv2d(1, 2, 3, 1, 1))) {
            ModelFile.save(m, features);
        }
        Run notAClassifier = run("occlude", "--model", features.toString());
        assertEquals(2, notAClassifier.exit());
        assertTrue(notAClassifier.err().contains(": not a classifier: a classifier outputs one score per class, but this model's output per sample is (2, 28, 28)"), notAClassifier.err());

        Path five = dir.resolve("five.safetensors");
        try (Model m = Model.sequential(Shape.of(1, 28, 28), 1, new Flatten(), new Dense(784, 5))) {
            ModelFile.save(m, five);
        }
        Run classes = run("occlude", "--model", five.toString());
        assertEquals(2, classes.exit());
        assertTrue(classes.err().contains("has 5 classes but fashion-mnist has 10"), classes.err());

        Run images = run("occlude", "--model", five.toString(), "--images", "0");
        assertEquals(2, images.exit());
        assertTrue(images.err().contains("--images must be >= 1, got 0"), images.err());

        Run mode = run("occlude", "--model", five.toString(), "--mode", "pixels");
        assertEquals(2, mode.exit());
        assertTrue(mode.err().contains("pixels"), mode.err());
    }
}
