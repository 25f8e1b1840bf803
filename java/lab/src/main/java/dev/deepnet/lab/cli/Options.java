package dev.deepnet.lab.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Checks of the values given to options, made before a command starts its work. Each failure is a
 * {@link UsageException} naming the option, what it takes and what it got.
 */
final class Options {

    private Options() {}

    /** An interval of real numbers; each end open or closed. */
    record Interval(double low, boolean lowIncluded, double high, boolean highIncluded) {
        static Interval open(double low, double high) {
            return new Interval(low, false, high, false);
        }

        static Interval closed(double low, double high) {
            return new Interval(low, true, high, true);
        }

        static Interval closedOpen(double low, double high) {
            return new Interval(low, true, high, false);
        }

        /** False for NaN. */
        boolean contains(double v) {
            return (lowIncluded ? v >= low : v > low) && (highIncluded ? v <= high : v < high);
        }

        @Override
        public String toString() {
            return (lowIncluded ? "[" : "(") + number(low) + ", " + number(high) + (highIncluded ? "]" : ")");
        }
    }

    static void atLeast(String option, long value, long min) {
        if (value < min) {
            throw new UsageException(option + " must be >= " + min + ", got " + value);
        }
    }

    /** A finite number above zero. */
    static void positive(String option, double value) {
        if (!(value > 0 && Double.isFinite(value))) {
            throw new UsageException(option + " must be a number > 0, got " + number(value));
        }
    }

    static void finite(String option, double value) {
        if (!Double.isFinite(value)) {
            throw new UsageException(option + " must be a finite number, got " + number(value));
        }
    }

    static void within(String option, double value, Interval interval) {
        if (!interval.contains(value)) {
            throw new UsageException(option + " must be in " + interval + ", got " + number(value));
        }
    }

    /** One of the named choices, exactly. */
    static void oneOf(String option, String value, String... choices) {
        for (String c : choices) {
            if (c.equals(value)) {
                return;
            }
        }
        throw new UsageException(option + " must be " + String.join(" or ", choices) + ", not " + value);
    }

    /**
     * The folder a command writes into, made now (with its parents) so that a folder that cannot
     * be made fails before the work, not after it.
     */
    static Path outputFolder(String option, Path folder) {
        if (folder.toString().isBlank()) {
            throw new UsageException(option + " must name a folder, got an empty path");
        }
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UsageException(option + " " + folder + ": cannot make that folder: " + reason(e), e);
        }
        if (!Files.isWritable(folder)) {
            throw new UsageException(option + " " + folder + ": the folder is not writable");
        }
        return folder;
    }

    /** What went wrong with a file, in words, without the exception's class name. */
    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException f) {
            return f.getFile() + " is a file, not a folder";
        }
        if (e instanceof NoSuchFileException f) {
            return "no such file or folder: " + f.getFile();
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** 0.5, 1, 1e-05, NaN: the number as the user would type it, without a trailing ".0". */
    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}
