package dev.deepnet.lab.cli;

import dev.deepnet.data.ImageFolder;
import dev.deepnet.infer.ClassOutput;
import dev.deepnet.infer.ClassProbability;
import dev.deepnet.infer.Classification;
import dev.deepnet.infer.Predictor;
import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Model;
import dev.deepnet.tensor.Shape;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deepnet predict --model FILE IMAGE...}: the five most probable classes for each image,
 * the way the lecture's slides list them ("container ship 0.71, lifeboat 0.12, ...").
 */
@Command(name = "predict", mixinStandardHelpOptions = true, description = "Print the top-5 classes with probabilities for each image.")
public final class PredictCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "a model saved by deepnet train (.safetensors)")
    Path modelFile;

    @Option(names = "--invert", description = "for grey models: invert the image (dark object on light ground, unlike Fashion-MNIST)")
    boolean invert;

    @Option(names = "--top", defaultValue = "5", description = "how many classes to list (default: ${DEFAULT-VALUE})")
    int top;

    @Parameters(arity = "1..*", description = "image files (PNG, JPEG, BMP, GIF)")
    List<Path> images;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        List<String> classes = ModelFile.classes(modelFile);
        try (Model model = ModelFile.load(modelFile); Predictor predictor = new Predictor(model, 1)) {
            ClassOutput output = ClassOutput.of(model, classes.size() == predictor.outputSize() ? classes : List.of());
            Shape sample = model.sampleShape();
            int failures = 0;
            for (Path image : images) {
                float[] input;
                try {
                    input = preprocess(image, sample);
                } catch (IOException | RuntimeException e) {
                    spec.commandLine().getErr().println(image + ": cannot read: " + e.getMessage());
                    failures++;
                    continue;
                }
                float[] p = predictor.predict(input);
                output.toProbabilities(p, 1, p); // a model ending in Softmax already gave probabilities
                Classification c = output.classification(p, 0);
                out.println(image + ": " + c.top(top).stream().map(ClassProbability::toString).collect(Collectors.joining(", ")));
            }
            return failures == 0 ? 0 : 1;
        }
    }

    private float[] preprocess(Path image, Shape sample) throws IOException {
        if (sample.rank() == 3 && sample.dim(0) == 3 && sample.dim(1) == sample.dim(2)) {
            int crop = (int) sample.dim(1);
            return ImageFolder.preprocess(image, crop * 256 / 227, crop, ImageFolder.imagenetMean(), ImageFolder.imagenetStd());
        }
        if (sample.rank() == 3 && sample.dim(0) == 1) {
            return grey(image, (int) sample.dim(1), (int) sample.dim(2));
        }
        throw new IOException("the model takes samples " + sample + ", which predict does not know how to make from an image");
    }

    /** The image as grey levels in [0, 1] resized to h x w: what a Fashion-MNIST model takes. */
    private float[] grey(Path file, int h, int w) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("no such file");
        }
        BufferedImage src = ImageIO.read(file.toFile());
        if (src == null) {
            throw new IOException("not an image ImageIO can read");
        }
        BufferedImage small = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = small.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(src, 0, 0, w, h, null);
        g.dispose();
        float[] out = new float[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float v = (small.getRaster().getSample(x, y, 0)) / 255f;
                out[y * w + x] = invert ? 1 - v : v;
            }
        }
        return out;
    }
}
