package dev.deepnet.fuzz;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One file format under fuzzing: small valid files to start from, the mutations that know its
 * structure, and the real loader with the exception it documents for bad files. Adding a format
 * is one class implementing this and one line in {@link FuzzFormats}.
 *
 * <p>Implementations are created in each child JVM by their public no-argument constructor, so
 * they keep nothing that must survive a crash; they may cache what they build between inputs.
 */
public interface FuzzFormat {

    /** Short name for the command line and the findings folder, e.g. {@code idx}. */
    String name();

    /**
     * Small valid files, built in code: the same bytes on every call and in every JVM, and each
     * one loads without an exception. {@code scratch} is a private folder for files a writer
     * needs on disk.
     */
    List<Seed> seeds(Path scratch) throws IOException;

    /** Mutations that know the format's structure; each returns null where its structure is missing. */
    List<Mutator> structureMutators();

    /**
     * Loads {@code file} with the real loader and reads what it returns, as a user would.
     * {@code scratch} is a private folder for helper files (e.g. a partner file).
     */
    void load(Path file, Path scratch) throws IOException;

    /**
     * Percentage of mutations drawn from {@link #structureMutators()} rather than byte-level ones.
     * Raise it where byte damage mostly lands in text only a parser reads (a JSON header).
     */
    default int structurePercent() {
        return 60;
    }

    /** The exception the loader documents for a malformed file. */
    Class<? extends IOException> rejection();

    /** A valid file of the corpus, named for the findings' descriptions. */
    record Seed(String name, byte[] bytes) {}
}
