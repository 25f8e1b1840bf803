package dev.deepnet.lab.cli;

import dev.deepnet.data.ImageFolder;
import dev.deepnet.infer.Predictor;
import dev.deepnet.nn.Model;
import dev.deepnet.tensor.Shape;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
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
        Options.atLeast("--top", top, 1);
        try (SavedClassifier saved = SavedClassifier.load(modelFile); Predictor predictor = new Predictor(saved.model(), 1)) {
            Model model = saved.model();
            List<String> classes = saved.classes();
            Shape sample = model.sampleShape();
            int failures = 0;
            for (Path image : images) {
                float[] input;
                conversion = "";
                try {
                    input = preprocess(image, sample);
                } catch (IOException | RuntimeException e) {
                    spec.commandLine().getErr().println(image + ": cannot read: " + e.getMessage());
                    failures++;
                    continue;
                }
                float[] scores = predictor.predict(input);
                out.println(image + ": " + topK(scores, classes, Math.min(top, scores.length)) + conversion);
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

    /**
     * How the last image was made to fit the model, as the end of its output line ("" when it
     * already did), so a photo is never silently squashed into a thumbnail.
     */
    private String conversion = "";

    /** The image as grey levels in [0, 1] resized to h x w: what a Fashion-MNIST model takes. */
    private float[] grey(Path file, int h, int w) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("no such file");
        }
        BufferedImage src = ImageIO.read(file.toFile());
        if (src == null) {
            throw new IOException("not an image ImageIO can read");
        }
        boolean colour = src.getColorModel().getNumColorComponents() > 1;
        if (colour || src.getWidth() != w || src.getHeight() != h) {
            boolean sameAspect = (long) src.getWidth() * h == (long) src.getHeight() * w;
            conversion = String.format(Locale.ROOT, " [converted: %dx%d %s to the model's %dx%d grey%s]", src.getWidth(), src.getHeight(),
                    colour ? "colour" : "grey", w, h, sameAspect ? "" : ", aspect ratio not kept");
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

    /** "Trouser 0.97, Dress 0.01, ...": softmax of the scores, highest first. */
    static String topK(float[] scores, List<String> classes, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (float s : scores) {
            max = Math.max(max, s);
        }
        double sum = 0;
        double[] p = new double[scores.length];
        for (int i = 0; i < scores.length; i++) {
            p[i] = Math.exp(scores[i] - max);
            sum += p[i];
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < p.length; i++) {
            order.add(i);
        }
        order.sort((a, b) -> Double.compare(p[b], p[a]));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < k; i++) {
            int c = order.get(i);
            String name = c < classes.size() ? classes.get(c) : "class " + c;
            sb.append(i == 0 ? "" : ", ").append(name).append(' ').append(String.format(Locale.ROOT, "%.2f", p[c] / sum));
        }
        return sb.toString();
    }
}
