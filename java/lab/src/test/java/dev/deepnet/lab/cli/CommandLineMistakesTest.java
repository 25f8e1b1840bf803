package dev.deepnet.lab.cli;

import static dev.deepnet.lab.cli.TrainPredictBenchCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.FashionMnist;
import dev.deepnet.io.ModelFile;
import dev.deepnet.lab.cli.TrainPredictBenchCommandTest.Run;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Model;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * Every kind of user mistake ends in one line on standard error, {@code deepnet <command>:
 * <reason>} naming the option or file, and exit code 2; a bug keeps its stack trace and exits 1.
 * (DeepnetJarIT runs one of each kind through the packaged jar.)
 */
class CommandLineMistakesTest {

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void saveAModel() throws Exception {
        model = untrainedLeNet(dir.resolve("lenet.safetensors"));
    }

    /** An untrained LeNet saved as deepnet train saves one: enough to be loaded and to predict. */
    static Path untrainedLeNet(Path file) throws Exception {
        try (Model net = LeNet.create(10, 1)) {
            ModelFile.save(net, file, FashionMnist.CLASSES, Map.of());
        }
        return file;
    }

    /** The run failed with exactly one line on stderr, {@code deepnet <command>: <expected...>}, nothing on stdout. */
    static void assertMistake(Run r, String command, String expected) {
        assertEquals(DeepnetCommand.USAGE_ERROR, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith("deepnet " + command + ": " + expected), r.err());
        assertEquals("", r.out());
    }

    @Test
    void anArgumentPicocliCannotParseIsOneLineWithAPointerToHelp() {
        assertMistake(run("train", "--epochs", "five"), "train",
                "Invalid value for option '--epochs': 'five' is not an int; see deepnet train --help");
        assertMistake(run("predict", "--model", model.toString()), "predict", "Missing required parameter: '<images>'");
        Run unknown = run("bnech");
        assertEquals(2, unknown.exit());
        assertEquals("deepnet: no command 'bnech' (did you mean bench?); see deepnet --help", unknown.err().strip());
        Run help = run("help", "bnech");
        assertEquals(2, help.exit());
        assertEquals("deepnet: Unknown subcommand 'bnech'; see deepnet --help", help.err().strip());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "train --epochs 0            | train       | --epochs must be >= 1, got 0",
        "train --batch -1            | train       | --batch must be >= 1, got -1",
        "train --lr -1               | train       | --lr must be a number > 0, got -1",
        "train --lr NaN              | train       | --lr must be a number > 0, got NaN",
        "train --limit 0             | train       | --limit must be >= 1, got 0",
        "train --validation-split 1  | train       | --validation-split must be in (0, 1), got 1",
        "train --model vgg           | train       | --model must be lenet or resnet or alexnet, not vgg",
        "bench --runs 0              | bench       | --runs must be >= 1, got 0",
        "bench --batch 100000        | bench       | --batch 100000 needs about",
        "predict --top 0 --model M x | predict     | --top must be >= 1, got 0",
        "fool --model M --max-steps 0 | fool       | --max-steps must be >= 1, got 0",
        "fool --model M --confidence 1 | fool      | --confidence must be in (0, 1), got 1",
        "adversarial --model M --steps 0 | adversarial | --steps must be >= 1, got 0",
        "occlude --model M --min-probability 1 | occlude | --min-probability must be in [0, 1), got 1",
        "occlude --model M --levels 7 | occlude    | --levels 7 is more bands than images of (1, 28, 28) have: give at most 6",
        "occlude --model M --mode sensitivity --patch 29 | occlude | --patch 29 does not fit in images of (1, 28, 28): give at most 28",
    })
    void anOptionOutOfRangeIsNamedWithWhatItTakes(String args, String command, String expected) {
        assertMistake(run(args.replace(" M ", " " + model + " ").split(" +")), command, expected);
    }

    @Test
    void everyWayAModelFileCanBeWrongNamesTheOptionAndTheFile() throws Exception {
        byte[] bytes = Files.readAllBytes(model);
        Path empty = Files.write(dir.resolve("empty.safetensors"), new byte[0]);
        Path truncated = Files.write(dir.resolve("truncated.safetensors"), Arrays.copyOf(bytes, 1000));
        byte[] scrambled = bytes.clone();
        Arrays.fill(scrambled, 20, 44, (byte) 'X'); // inside the JSON header
        Path corrupt = Files.write(dir.resolve("corrupt.safetensors"), scrambled);
        Path text = Files.writeString(dir.resolve("notes.safetensors"), "not a model", StandardCharsets.UTF_8);
        String image = dir.resolve("x.png").toString();
        assertMistake(run("predict", "--model", dir.resolve("nope.safetensors").toString(), image), "predict",
                "--model " + dir.resolve("nope.safetensors") + ": no such file");
        assertMistake(run("predict", "--model", dir.toString(), image), "predict", "--model " + dir + ": a folder, not a model file");
        for (Path bad : new Path[] {empty, truncated, corrupt, text}) {
            assertMistake(run("predict", "--model", bad.toString(), image), "predict", "--model " + bad + ": not a model deepnet can load: ");
        }
        // The same loader, the same words, in every command that takes --model.
        for (String command : new String[] {"adversarial", "fool", "occlude"}) {
            assertMistake(run(command, "--model", corrupt.toString(), "--out", dir.resolve("out").toString()), command,
                    "--model " + corrupt + ": not a model deepnet can load: ");
        }
    }

    @Test
    void aFolderThatCannotBeMadeFailsBeforeTheWork() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertMistake(run("train", "--out", file.resolve("sub").toString()), "train", "--out " + file.resolve("sub") + ": cannot make that folder: ");
        assertMistake(run("lab", "shadows", "--out", file.toString()), "lab", "--out " + file + ": cannot make that folder: ");
        assertMistake(run("fool", "--model", model.toString(), "--out", "/proc/x"), "fool", "--out /proc/x: cannot make that folder: ");
        assertMistake(run("lab", "shadows", "--out", ""), "lab", "--out must name a folder, got an empty path");
    }

    @Test
    void dataThatDoesNotFitIsNamed() throws Exception {
        Path noClasses = Files.createDirectories(dir.resolve("no-classes"));
        ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", noClasses.resolve("loose.png").toFile());
        assertMistake(run("train", "--model", "alexnet", "--data", noClasses.toString(), "--out", dir.resolve("t").toString()), "train",
                "--data " + noClasses + ": no class folders");
        assertMistake(run("train", "--limit", "100", "--batch", "101", "--out", dir.resolve("t").toString()), "train",
                "--batch 101 is more than the 100 training samples; give at most 100");
    }

    @Test
    void anOnnxModelServesEveryCommandThatTakesAModelAndABrokenOneIsOneLine() throws Exception {
        Path onnx = dir.resolve("lenet.onnx");
        try (Model net = LeNet.create(10, 1)) {
            dev.deepnet.onnx.OnnxFile.save(net, onnx, ModelFile.classifierMetadata(FashionMnist.CLASSES,
                    dev.deepnet.data.ImagePreprocessing.grey(28, 28)));
        }
        BufferedImage fits = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        Path small = dir.resolve("small-for-onnx.png");
        ImageIO.write(fits, "png", small.toFile());
        Run r = run("predict", "--model", onnx.toString(), small.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(FashionMnist.CLASSES.stream().anyMatch(c -> r.out().contains(c)), "labels from the ONNX metadata: " + r.out());

        Path broken = dir.resolve("broken.onnx");
        Files.write(broken, new byte[] {8, 7, 18, 3, 'x'});
        assertMistake(run("predict", "--model", broken.toString(), small.toString()), "predict",
                "--model " + broken + ": not a model deepnet can load");
    }

    @Test
    void aColourPhotoForAGreyModelSaysItWasConverted() throws Exception {
        BufferedImage photo = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = photo.createGraphics();
        g.setColor(Color.ORANGE);
        g.fillOval(100, 50, 400, 380);
        g.dispose();
        Path file = dir.resolve("photo.png");
        ImageIO.write(photo, "png", file.toFile());
        Run r = run("predict", "--model", model.toString(), file.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("converted colour to grey") && r.out().contains("resized 640x480 to 28x28"), r.out());

        BufferedImage fits = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        Path small = dir.resolve("small.png");
        ImageIO.write(fits, "png", small.toFile());
        Run same = run("predict", "--model", model.toString(), small.toString());
        assertEquals(0, same.exit(), same.out() + same.err());
        assertTrue(!same.out().contains("converted"), "an image the model's size and colour needs no note: " + same.out());
    }

    /** Anything but a user's mistake is a bug: its stack trace is kept, exit code 1. */
    @Test
    void aBugKeepsItsStackTrace() {
        StringWriter err = new StringWriter();
        CommandLine cli = DeepnetCommand.commandLine();
        cli.addSubcommand("broken", new Broken());
        cli.setErr(new PrintWriter(err));
        assertEquals(1, cli.execute("broken"));
        assertTrue(err.toString().startsWith("java.lang.IllegalStateException: an invariant broke"), err.toString());
        assertTrue(err.toString().lines().anyMatch(l -> l.strip().startsWith("at ")), "with its stack trace: " + err);
    }

    @CommandLine.Command(name = "broken")
    static final class Broken implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new IllegalStateException("an invariant broke");
        }
    }

    /** A mistake found on another thread arrives wrapped; it is still the user's. */
    @Test
    void aWrappedMistakeIsStillAMistake() {
        assertEquals("--x must be >= 1, got 0",
                DeepnetCommand.mistake(new java.util.concurrent.CompletionException(new UsageException("--x must be >= 1, got 0"))));
        assertEquals(null, DeepnetCommand.mistake(new RuntimeException(new IllegalArgumentException("a bug"))));
    }
}
