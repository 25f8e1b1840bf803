package dev.deepnet.fuzz;

import java.nio.file.Path;
import java.util.List;

/** One generated input: which format, seed and index made it, from which corpus file, by which mutations. */
record FuzzInput(String format, long seed, long index, String start, List<String> mutations, byte[] bytes) {

    /** The file name stem findings use: {@code <seed>-<index>}. */
    static String stem(long seed, long index) {
        return seed + "-" + index;
    }

    /** What the finding's {@code .txt} starts with: enough to regenerate it and to replay it. */
    String describe(Path file) {
        StringBuilder b = new StringBuilder();
        b.append("format: ").append(format).append('\n');
        b.append("seed: ").append(seed).append('\n');
        b.append("input: ").append(index).append('\n');
        b.append("from corpus file: ").append(start).append('\n');
        b.append("mutations:\n");
        for (int i = 0; i < mutations.size(); i++) {
            b.append("  ").append(i + 1).append(". ").append(mutations.get(i)).append('\n');
        }
        b.append("bytes: ").append(bytes.length).append('\n');
        b.append("replay: scripts/fuzz --formats ").append(format).append(" --replay ").append(file).append('\n');
        return b.toString();
    }
}
