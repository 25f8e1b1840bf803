package dev.deepnet.bench.peers;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One line a peer prints for scripts/bench-peers: {@code RESULT key=value ...} (or
 * {@code PEER ...} for a probe). Values carry no spaces; the other peers print the same form.
 */
final class Report {

    private final String kind;
    private final Map<String, String> fields = new LinkedHashMap<>();

    private Report(String kind) {
        this.kind = kind;
    }

    static Report result(String peer, String workload) {
        return new Report("RESULT").put("peer", peer).put("workload", workload)
                .put("threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"));
    }

    static Report probe(String peer) {
        return new Report("PEER").put("peer", peer);
    }

    Report put(String key, String value) {
        String v = value == null || value.isBlank() ? "-" : value.strip().replaceAll("\\s+", "_");
        fields.put(key, v);
        return this;
    }

    Report put(String key, long value) {
        return put(key, Long.toString(value));
    }

    Report put(String key, double value) {
        return put(key, String.format(Locale.ROOT, "%.6g", value));
    }

    void print() {
        StringBuilder sb = new StringBuilder(kind);
        fields.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
        System.out.println(sb);
        System.out.flush();
    }
}
