package dev.deepnet.lab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One mistake of each kind through the packaged command line, {@code java -jar deepnet.jar}, as
 * scripts/deepnet runs it: one line on standard error naming the option or file, nothing on
 * standard output, exit code 2. (CommandLineMistakesTest covers every case in process.)
 */
class CommandLineMistakesIT {

    private static final Path JAR = Path.of("target/deepnet.jar");

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void saveAModel() throws Exception {
        model = CommandLineMistakesTest.untrainedLeNet(dir.resolve("lenet.safetensors"));
    }

    /** Runs the jar with JVM options, then "--", then the command's arguments; asserts the one-line mistake. */
    static void assertMistake(String expected, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
        int split = List.of(args).indexOf("--");
        command.addAll(List.of(args).subList(0, Math.max(split, 0)));
        command.addAll(List.of("-jar", JAR.toString()));
        command.addAll(List.of(args).subList(split + 1, args.length));
        Process p = new ProcessBuilder(command).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out");
        assertEquals(2, p.exitValue(), out + err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith(expected), err);
        assertEquals("", out);
    }

    @Test
    void anArgumentThatDoesNotParse() throws Exception {
        assertMistake("deepnet train: Invalid value for option '--epochs': 'five' is not an int; see deepnet train --help",
                "--", "train", "--epochs", "five");
    }

    @Test
    void anOptionOutOfRange() throws Exception {
        assertMistake("deepnet train: --lr must be a number > 0, got -1", "--", "train", "--lr", "-1");
    }

    @Test
    void aModelFileThatIsMissingOrCorrupt() throws Exception {
        Path missing = dir.resolve("nope.safetensors");
        assertMistake("deepnet predict: --model " + missing + ": no such file", "--", "predict", "--model", missing.toString(), "x.png");
        byte[] bytes = Files.readAllBytes(model);
        Path truncated = Files.write(dir.resolve("truncated.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertMistake("deepnet predict: --model " + truncated + ": not a model deepnet can load: ", "--", "predict", "--model",
                truncated.toString(), "x.png");
    }

    @Test
    void anOutputFolderThatCannotBeMade() throws Exception {
        Path file = Files.writeString(dir.resolve("in-the-way"), "x");
        assertMistake("deepnet fool: --out " + file + ": cannot make that folder: " + file + " is a file, not a folder", "--", "fool",
                "--model", model.toString(), "--out", file.toString());
    }

    @Test
    void aDataFolderWithoutClassFolders() throws Exception {
        Path flat = Files.createDirectories(dir.resolve("flat"));
        assertMistake("deepnet train: --data " + flat + ": no class folders", "--", "train", "--model", "alexnet", "--data", flat.toString(),
                "--out", dir.resolve("out").toString());
    }

    @Test
    void aBackendSettingThatNamesNoBackend() throws Exception {
        assertMistake("deepnet fool: -Ddeepnet.backend=nonsense names no backend: use 'onednn' or 'reference'",
                "-Ddeepnet.backend=nonsense", "--", "fool", "--model", model.toString(), "--out", dir.resolve("fool").toString());
    }
}
