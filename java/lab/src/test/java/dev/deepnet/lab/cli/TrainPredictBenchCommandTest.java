package dev.deepnet.lab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.IdxFile;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The train, predict and bench commands end to end, as a user runs them (smaller sizes). */
class TrainPredictBenchCommandTest {

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = DeepnetCommand.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    static void assertPng(Path file) throws Exception {
        assertTrue(Files.isRegularFile(file), file + " exists");
        BufferedImage img = ImageIO.read(file.toFile());
        assertTrue(img != null && img.getWidth() > 100 && img.getHeight() > 100, file + " is a real picture");
    }

    /**
     * A LeNet trained for 100 steps on 3,200 real Fashion-MNIST images beats 70% on the 10,000
     * held-out test images; then predict lists five classes for a test image saved as a PNG.
     */
    @Test
    void leNetOnASliceOfFashionMnistThenPredict(@TempDir Path dir) throws Exception {
        Path fashion = dev.deepnet.data.FashionMnist.DIRECTORY.resolve("t10k-images-idx3-ubyte.gz");
        assertTrue(Files.isRegularFile(fashion), "Fashion-MNIST is missing: apt-get install -y dataset-fashion-mnist"
                + " (scripts/test installs it when it runs as root)");
        Run train = run("train", "--model", "lenet", "--data", "fashion-mnist", "--epochs", "1", "--limit", "3200", "--batch", "32",
                "--out", dir.toString());
        assertEquals(0, train.exit(), train.out() + train.err());
        Matcher m = Pattern.compile("test accuracy (0\\.\\d+)").matcher(train.out());
        assertTrue(m.find(), train.out());
        double accuracy = Double.parseDouble(m.group(1));
        assertTrue(accuracy > 0.70, "held-out accuracy " + accuracy);
        assertTrue(Files.size(dir.resolve("lenet-epoch1.safetensors")) > 1_000_000, "a checkpoint per epoch");
        assertPng(dir.resolve("training-curve.png"));
        assertPng(dir.resolve("confusion-matrix.png"));

        // The first test image as a PNG, the way a user would have it.
        IdxFile images = IdxFile.read(fashion);
        float[] pixels = images.floats(true);
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                img.getRaster().setSample(x, y, 0, Math.round(pixels[y * 28 + x] * 255));
            }
        }
        Path png = dir.resolve("item.png");
        ImageIO.write(img, "png", png.toFile());
        Run predict = run("predict", "--model", dir.resolve("lenet.safetensors").toString(), png.toString());
        assertEquals(0, predict.exit(), predict.out() + predict.err());
        String line = predict.out().strip();
        assertTrue(line.startsWith(png + ": "), line);
        Matcher entry = Pattern.compile("([A-Za-z /-]+) (\\d\\.\\d\\d)").matcher(line.substring(png.toString().length() + 2));
        int entries = 0;
        double total = 0;
        while (entry.find()) {
            entries++;
            total += Double.parseDouble(entry.group(2));
        }
        assertEquals(5, entries, line);
        assertTrue(total <= 1.03, "probabilities of the top five sum to at most 1: " + line);

        Run missing = run("predict", "--model", dir.resolve("lenet.safetensors").toString(), dir.resolve("nope.png").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("nope.png: cannot read"), missing.err());
    }

    @Test
    void alexNetTrainsOnAnImageFolder(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("images");
        Color[] colors = {Color.RED, Color.BLUE};
        String[] names = {"red", "blue"};
        for (int c = 0; c < 2; c++) {
            Files.createDirectories(data.resolve(names[c]));
            for (int i = 0; i < 4; i++) {
                BufferedImage img = new BufferedImage(40 + i, 30, BufferedImage.TYPE_INT_RGB);
                java.awt.Graphics2D g = img.createGraphics();
                g.setColor(colors[c]);
                g.fillRect(0, 0, img.getWidth(), img.getHeight());
                g.dispose();
                ImageIO.write(img, "png", data.resolve(names[c]).resolve(i + ".png").toFile());
            }
        }
        Run train = run("train", "--model", "alexnet", "--data", data.toString(), "--epochs", "1", "--batch", "2",
                "--validation-split", "0.25", "--out", dir.resolve("out").toString());
        assertEquals(0, train.exit(), train.out() + train.err());
        assertTrue(train.out().contains("6 training and 2 test samples, 2 classes"), train.out());
        assertTrue(Files.isRegularFile(dir.resolve("out/alexnet.safetensors")));
    }

    @Test
    void badArgumentsSayWhatIsWrong() {
        Run model = run("train", "--model", "vgg", "--epochs", "1", "--limit", "64");
        assertEquals(2, model.exit());
        assertTrue(model.err().contains("--model must be lenet or resnet or alexnet, not vgg"), model.err());
        Run data = run("train", "--data", "/no/such/folder");
        assertEquals(2, data.exit());
        assertTrue(data.err().contains("/no/such/folder is neither"), data.err());
    }

    @Test
    void benchAlexNetReportsLatencyThroughputAndATrainingStep() {
        Run bench = run("bench", "alexnet", "--batch", "2", "--runs", "1");
        assertEquals(0, bench.exit(), bench.out() + bench.err());
        assertTrue(bench.out().contains("62,378,344 parameters"), bench.out());
        assertTrue(bench.out().matches("(?s).*forward, batch 1: +first call \\(creates primitives\\) [0-9.]+ ms; then median [0-9.]+ ms.*"),
                bench.out());
        assertTrue(bench.out().matches("(?s).*training step, batch 2: first step [0-9.]+ ms; then median [0-9.]+ ms/step.*"), bench.out());
    }
}
