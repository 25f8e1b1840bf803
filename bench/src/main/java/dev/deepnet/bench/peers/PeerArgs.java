package dev.deepnet.bench.peers;

import java.util.HashMap;
import java.util.Map;

/**
 * A peer's command line: {@code WORKLOAD [--name value]...}. Plain Java only: the JNI peer uses
 * it in a JVM that must not load deepnet's own oneDNN.
 */
final class PeerArgs {

    private final String workload;
    private final Map<String, String> options = new HashMap<>();

    private PeerArgs(String workload) {
        this.workload = workload;
    }

    static PeerArgs parse(String[] args) {
        if (args.length < 1 || args[0].startsWith("--")) {
            throw new IllegalArgumentException("usage: WORKLOAD [--name value]... (WORKLOAD 'probe' reports what is loaded)");
        }
        PeerArgs parsed = new PeerArgs(args[0]);
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                throw new IllegalArgumentException("expected --name value, got '" + args[i] + "'");
            }
            parsed.options.put(args[i].substring(2), args[++i]);
        }
        return parsed;
    }

    String workload() {
        return workload;
    }

    String string(String name, String defaultValue) {
        return options.getOrDefault(name, defaultValue);
    }

    double number(String name, double defaultValue) {
        String v = options.get(name);
        try {
            return v == null ? defaultValue : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs a number, got '" + v + "'");
        }
    }

    int integer(String name, int defaultValue) {
        String v = options.get(name);
        try {
            return v == null ? defaultValue : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs an integer, got '" + v + "'");
        }
    }
}
