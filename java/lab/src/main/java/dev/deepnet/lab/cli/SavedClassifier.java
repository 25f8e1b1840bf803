package dev.deepnet.lab.cli;

import dev.deepnet.infer.ClassOutput;
import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Model;
import dev.deepnet.onnx.OnnxException;
import dev.deepnet.onnx.OnnxFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A classifier loaded from a model file — deepnet's ({@code .safetensors}) or ONNX ({@code .onnx},
 * labels from its {@code metadata_props}) — the one way every command that takes {@code --model}
 * loads it: the model and how its output reads as classes (their labels, whether it ends in a
 * softmax). Every way the file can be wrong is a {@link UsageException} naming the option, the
 * file and the problem.
 */
record SavedClassifier(Model model, ClassOutput output) implements AutoCloseable {

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
        boolean onnx = file.getFileName() != null && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
        List<String> names;
        Model model;
        try {
            if (onnx) { // labels from its metadata_props, as Predictor.load reads them
                try {
                    names = ModelFile.classes(OnnxFile.metadata(file));
                } catch (IllegalArgumentException e) {
                    throw new OnnxException(file, e.getMessage(), e);
                }
                model = OnnxFile.load(file, limits);
            } else {
                names = ModelFile.classes(file);
                model = ModelFile.load(file, limits);
            }
        } catch (IOException e) { // every way a file can be wrong: SafeTensorsException, OnnxException, or the file system's
            String problem = e.getMessage() == null ? Options.reason(e) : e.getMessage();
            // The loader's messages start with the file, already named here.
            problem = problem.startsWith(file + ": ") ? problem.substring(file.toString().length() + 2) : problem;
            throw new UsageException(given + ": not a model deepnet can load: " + problem, e);
        }
        try {
            return new SavedClassifier(model, ClassOutput.of(model, names));
        } catch (IllegalArgumentException e) {
            model.close();
            throw new UsageException(given + ": not a classifier: " + e.getMessage(), e);
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
    int classOf(String given, String option) {
        try {
            return output.classOf(given);
        } catch (IllegalArgumentException e) {
            throw new UsageException(option + " " + e.getMessage(), e);
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
