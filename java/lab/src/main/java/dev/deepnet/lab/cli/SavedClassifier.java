package dev.deepnet.lab.cli;

import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Model;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;

/**
 * A classifier loaded from a model file for the commands that probe one (adversarial, fool):
 * the model, its class names (possibly none) and its number of classes. Every way the file can
 * be wrong becomes one line naming the file and the problem, not a stack trace.
 */
record SavedClassifier(Model model, List<String> classes, int classCount) implements AutoCloseable {

    static SavedClassifier load(Path file, CommandLine cli) {
        if (!Files.isRegularFile(file)) {
            throw new CommandLine.ParameterException(cli, "--model " + file + ": no such file (save one with deepnet train)");
        }
        List<String> names;
        Model model;
        try {
            names = ModelFile.classes(file);
            model = ModelFile.load(file);
        } catch (IOException | RuntimeException e) {
            throw new CommandLine.ParameterException(cli, "--model " + file + " cannot be loaded as a deepnet model: " + e.getMessage());
        }
        Shape out = model.shapes(1)[model.output().index()];
        if (out.rank() != 2 || out.dim(1) < 2) {
            model.close();
            throw new CommandLine.ParameterException(cli, "--model " + file + " is not a classifier: its output for one sample is " + out
                    + ", not class scores (1, classes)");
        }
        return new SavedClassifier(model, names, out.intDim(1));
    }

    /** A class given by name (any case) or index, checked against the model's classes. */
    int classOf(String given, String option, CommandLine cli) {
        for (int c = 0; c < classes.size(); c++) {
            if (classes.get(c).equalsIgnoreCase(given.trim())) {
                return c;
            }
        }
        try {
            int c = Integer.parseInt(given.trim());
            if (c >= 0 && c < classCount) {
                return c;
            }
        } catch (NumberFormatException e) {
            // not an index either: reported below
        }
        throw new CommandLine.ParameterException(cli, option + " " + given + " is not a class of the model: give an index in [0, "
                + classCount + ")" + (classes.isEmpty() ? "" : " or one of " + String.join(", ", classes)));
    }

    String name(int c) {
        return c < classes.size() ? classes.get(c) : "class " + c;
    }

    @Override
    public void close() {
        model.close();
    }
}
