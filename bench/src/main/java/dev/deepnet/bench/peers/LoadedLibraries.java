package dev.deepnet.bench.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;

/** Which shared libraries this process has mapped (Linux's /proc/self/maps): the proof of what ran. */
final class LoadedLibraries {
    private LoadedLibraries() {}

    /** The files mapped whose name contains {@code fragment}, e.g. "libdnnl"; comma-separated, or "-". */
    static String matching(String fragment) {
        TreeSet<String> found = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash >= 0) {
                    String file = line.substring(slash).strip();
                    if (Path.of(file).getFileName().toString().contains(fragment)) {
                        found.add(file);
                    }
                }
            }
        } catch (IOException e) {
            return "unknown(" + e.getMessage() + ")";
        }
        return found.isEmpty() ? "-" : String.join(",", found);
    }
}
