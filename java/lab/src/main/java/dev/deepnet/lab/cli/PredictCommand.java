package dev.deepnet.lab.cli;

import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.infer.ClassProbability;
import dev.deepnet.infer.Classification;
import dev.deepnet.infer.Predictor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deepnet predict --model FILE IMAGE...}: the five most probable classes for each image,
 * the way the lecture's slides list them ("container ship 0.71, lifeboat 0.12, ..."). Each image
 * is made into the model's input as its file says ({@link ImagePreprocessing}), and a line says
 * when it had to be resized or converted.
 */
@Command(name = "predict", mixinStandardHelpOptions = true, description = "Print the top-5 classes with probabilities for each image.")
public final class PredictCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "a model saved by deepnet train (.safetensors)")
    Path modelFile;

    @Option(names = "--invert", description = "invert the image (a dark object on a light ground, unlike Fashion-MNIST)")
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
        SavedClassifier.load(modelFile).close(); // every way the file can be wrong, as one line naming it
        Predictor loaded;
        try {
            loaded = Predictor.load(modelFile, b -> b.maxBatch(1).threads(Predictor.defaultThreads(), 1));
        } catch (IOException e) { // what the checks above let through: labels or preprocessing that do not fit the model
            throw new UsageException(SavedClassifier.OPTION + " " + modelFile + ": " + e.getMessage(), e);
        }
        try (Predictor predictor = loaded) {
            ImagePreprocessing preprocessing = predictor.preprocessing().orElseThrow(() -> new UsageException(SavedClassifier.OPTION
                    + " " + modelFile + " takes samples " + predictor.model().sampleShape()
                    + ", which predict does not know how to make from an image")).inverted(invert);
            int failures = 0;
            for (Path image : images) {
                ImagePreprocessing.Prepared input;
                try {
                    input = preprocessing.apply(image);
                } catch (IOException | RuntimeException e) {
                    spec.commandLine().getErr().println(image + ": cannot read: " + e.getMessage());
                    failures++;
                    continue;
                }
                Classification c = predictor.classify(input);
                out.println(image + ": " + c.top(top).stream().map(ClassProbability::toString).collect(Collectors.joining(", ")));
                if (c.converted()) {
                    out.println("  (" + String.join("; ", c.conversions()) + ")");
                }
            }
            return failures == 0 ? 0 : 1;
        }
    }
}
