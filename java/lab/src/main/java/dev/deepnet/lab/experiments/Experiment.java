package dev.deepnet.lab.experiments;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One demonstration of the lecture, run from built-in data with a fixed seed: it writes its
 * figures into a folder and returns what the lecture claimed, what was measured, and whether the
 * claim held.
 */
public interface Experiment {

    /** The command-line name, e.g. {@code autoencoder}. */
    String name();

    /** A title for the report. */
    String title();

    /** Runs, writing figures (PNGs) into {@code dir}. */
    Result run(Path dir) throws IOException;

    /** What an experiment found. */
    record Result(String name, String title, String claim, String measured, boolean claimHeld, List<Path> figures,
            List<Table> tables) {}

    /** A table of the report: a caption, column headers and rows of cells. */
    record Table(String caption, List<String> headers, List<List<String>> rows) {
        public static Builder builder(String caption, String... headers) {
            return new Builder(caption, List.of(headers));
        }

        public static final class Builder {
            private final String caption;
            private final List<String> headers;
            private final List<List<String>> rows = new ArrayList<>();

            private Builder(String caption, List<String> headers) {
                this.caption = caption;
                this.headers = headers;
            }

            public Builder row(Object... cells) {
                List<String> r = new ArrayList<>();
                for (Object c : cells) {
                    r.add(String.valueOf(c));
                }
                rows.add(r);
                return this;
            }

            public Table build() {
                return new Table(caption, headers, List.copyOf(rows));
            }
        }
    }
}
