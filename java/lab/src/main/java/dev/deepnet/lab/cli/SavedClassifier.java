package dev.deepnet.lab.cli;

import dev.deepnet.infer.ClassOutput;
import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;

/**
 * A classifier loaded from a model file for the commands that probe one (adversarial, fool):
 * the model and how its output reads as classes (their labels, whether it ends in a softmax).
 * Every way the file can be wrong becomes one line naming the file and the problem, not a stack
 * trace.
 */
record SavedClassifier(Model model, ClassOutput output) implements AutoCloseable {

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
        try {
            return new SavedClassifier(model, ClassOutput.of(model, names));
        } catch (IllegalArgumentException e) {
            model.close();
            throw new CommandLine.ParameterException(cli, "--model " + file + " is not a classifier: " + e.getMessage());
        }
    }

    /** One label per class: the file's names, or "class c". */
    List<String> classes() {
        return output.labels();
    }

    int classCount() {
        return output.classes();
    }

    /** A class given by name (any case) or index, checked against the model's classes. */
    int classOf(String given, String option, CommandLine cli) {
        try {
            return output.classOf(given);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, option + " " + e.getMessage());
        }
    }

    String name(int c) {
        return output.label(c);
    }

    @Override
    public void close() {
        model.close();
    }
}
