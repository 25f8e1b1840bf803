package dev.deepnet.lab.cli;

import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Model;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A classifier loaded from a model file, the one way every command that takes {@code --model}
 * loads it: the model, its class names (possibly none) and its number of classes. Every way the
 * file can be wrong is a {@link UsageException} naming the option, the file and the problem.
 */
record SavedClassifier(Model model, List<String> classes, int classCount) implements AutoCloseable {

    static final String OPTION = "--model";

    static SavedClassifier load(Path file) {
        String given = OPTION + " " + file;
        if (Files.isDirectory(file)) {
            throw new UsageException(given + ": a folder, not a model file (deepnet train saves them as <model>.safetensors)");
        }
        if (!Files.isRegularFile(file)) {
            throw new UsageException(given + ": no such file (save one with deepnet train)");
        }
        ModelFile.Limits limits;
        try {
            limits = ModelFile.Limits.fromSystemProperties();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        List<String> names;
        Model model;
        try {
            names = ModelFile.classes(file);
            model = ModelFile.load(file, limits);
        } catch (IOException e) { // every way a file can be wrong: SafeTensorsException, or the file system's
            String problem = e.getMessage() == null ? Options.reason(e) : e.getMessage();
            // The loader's messages start with the file, already named here.
            problem = problem.startsWith(file + ": ") ? problem.substring(file.toString().length() + 2) : problem;
            throw new UsageException(given + ": not a model deepnet can load: " + problem, e);
        }
        Shape out = model.shapes(1)[model.output().index()];
        if (out.rank() != 2 || out.dim(1) < 2) {
            model.close();
            throw new UsageException(given + ": not a classifier: its output for one sample is " + out
                    + ", not scores for two or more classes (1, classes)");
        }
        return new SavedClassifier(model, names, out.intDim(1));
    }

    /** A class given by name (any case) or index, checked against the model's classes. */
    int classOf(String given, String option) {
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
        throw new UsageException(option + " " + given + " is not a class of the model: give an index in [0, "
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
