package dev.deepnet.bench.peers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns the lines scripts/bench-peers collected ({@code META}, {@code PEER}, {@code RESULT},
 * {@code FAILED}, {@code SKIPPED}, each {@code key=value ...}) into {@code runs.csv} (one row per
 * round, workload and peer) and {@code summary.md} (medians over rounds and ratios), and prints
 * the summary.
 *
 * <p>Per round, a peer's figure is the median time per call of its samples; for the LeNet epoch,
 * the mean time per minibatch times the minibatches in 60,000 images (an epoch is a sum). Over
 * rounds the table shows the median of those figures, their range, and the ratio to deepnet's
 * median: {@code peer time / deepnet time}, which is deepnet's speed over the peer's: above 1,
 * deepnet is faster. Nets compare with {@code deepnet} (oneDNN backend through a compiled plan),
 * primitives with {@code ffm} (deepnet's dnnl handles).
 */
public final class PeerSummary {
    private PeerSummary() {}

    /** What the table knows about a workload. */
    record Workload(String id, String title, boolean net, String unit, double unitMicros, double gflopPerCall) {}

    static final List<Workload> WORKLOADS = List.of(
            new Workload("alexnet-fwd-b1", "AlexNet forward, batch 1 (inference)", true, "ms", 1e3, 0),
            new Workload("alexnet-fwd-b32", "AlexNet forward, batch 32 (inference)", true, "ms", 1e3, 0),
            new Workload("alexnet-train-b32", "AlexNet SGD step, batch 32 (forward, softmax cross-entropy, backward, update)", true,
                    "ms", 1e3, 0),
            new Workload("lenet-epoch", "LeNet-style Fashion-MNIST epoch, batch 64 (timed minibatches extrapolated to 60,000 images)",
                    true, "s", 1e6, 0),
            new Workload("autoencoder-step", "10-3-10 sigmoid autoencoder SGD step, batch 1, half squared error", true, "µs", 1, 0),
            new Workload("conv-alexnet1", "AlexNet conv1, N=32: 3x227x227 -> 96x55x55, 11x11 stride 4", false, "ms", 1e3,
                    2.0 * 32 * 96 * 55 * 55 * 3 * 11 * 11 / 1e9),
            new Workload("conv-lenet", "LeNet conv, N=64: 1x28x28 -> 32x28x28, 5x5 pad 2", false, "ms", 1e3,
                    2.0 * 64 * 32 * 28 * 28 * 25 / 1e9),
            new Workload("matmul-1024", "matmul 1024 x 1024 x 1024", false, "ms", 1e3, 2.0 * 1024 * 1024 * 1024 / 1e9),
            new Workload("relu-10", "ReLU on 10 floats (what one call costs)", false, "µs", 1, 0));

    static final Map<String, String> PEER_NAMES = new LinkedHashMap<>();

    static {
        PEER_NAMES.put("deepnet", "deepnet (oneDNN backend, compiled plan, FFM)");
        PEER_NAMES.put("deepnet-ref", "deepnet (reference backend, plain Java)");
        PEER_NAMES.put("torch", "PyTorch");
        PEER_NAMES.put("ffm", "FFM: deepnet's dnnl handles");
        PEER_NAMES.put("c", "C: oneDNN's C API, gcc -O2");
        PEER_NAMES.put("jni", "JNI: JavaCPP's dnnl presets");
        PEER_NAMES.put("ops", "deepnet Ops (plain NCHW in/out, reorders per call)");
        PEER_NAMES.put("ref", "reference Ops (plain Java)");
    }

    /**
     * {@code KIND key=value ...}; values carry no spaces, except that a {@code META} line's one
     * value and a {@code reason} (always last) run to the end of the line.
     */
    static Map<String, String> fields(String line) {
        Map<String, String> f = new LinkedHashMap<>();
        String text = line.strip();
        int space = text.indexOf(' ');
        f.put("kind", space < 0 ? text : text.substring(0, space));
        String rest = space < 0 ? "" : text.substring(space + 1).strip();
        if (f.get("kind").equals("META")) {
            int eq = rest.indexOf('=');
            if (eq > 0) {
                f.put(rest.substring(0, eq), rest.substring(eq + 1));
            }
            return f;
        }
        while (!rest.isEmpty()) {
            if (rest.startsWith("reason=")) {
                f.put("reason", rest.substring("reason=".length()));
                break;
            }
            int end = rest.indexOf(' ');
            String part = end < 0 ? rest : rest.substring(0, end);
            int eq = part.indexOf('=');
            if (eq > 0) {
                f.put(part.substring(0, eq), part.substring(eq + 1));
            }
            rest = end < 0 ? "" : rest.substring(end + 1).strip();
        }
        return f;
    }

    static double number(Map<String, String> f, String key) {
        String v = f.get(key);
        if (v == null) {
            return Double.NaN;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** A result's figure for its round, in microseconds (see the class comment). */
    static double figure(Map<String, String> r) {
        if ("lenet-epoch".equals(r.get("workload"))) {
            return number(r, "mean_us") * number(r, "images") / number(r, "batch");
        }
        return number(r, "median_us");
    }

    static double median(List<Double> values) {
        double[] v = values.stream().filter(d -> !d.isNaN()).mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        double a = Math.abs(v);
        String f = a >= 1000 ? "%,.0f" : a >= 100 ? "%.1f" : a >= 10 ? "%.2f" : a >= 1 ? "%.3f" : "%.4f";
        return String.format(Locale.ROOT, f, v);
    }

    static String time(double micros) {
        if (Double.isNaN(micros)) {
            return "—";
        }
        if (micros >= 1e6) {
            return fmt(micros / 1e6) + " s";
        }
        if (micros >= 1e3) {
            return fmt(micros / 1e3) + " ms";
        }
        return fmt(micros) + " µs";
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: PeerSummary RAW_FILE OUT_DIR");
        }
        List<Map<String, String>> meta = new ArrayList<>();
        List<Map<String, String>> probes = new ArrayList<>();
        List<Map<String, String>> results = new ArrayList<>();
        List<Map<String, String>> failures = new ArrayList<>();
        List<Map<String, String>> skips = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, String> f = fields(line);
            switch (f.get("kind")) {
                case "META" -> meta.add(f);
                case "PEER" -> probes.add(f);
                case "RESULT" -> results.add(f);
                case "FAILED" -> failures.add(f);
                case "SKIPPED" -> skips.add(f);
                default -> { }
            }
        }
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        writeCsv(out.resolve("runs.csv"), results, failures);
        String md = markdown(meta, probes, results, failures, skips);
        Files.writeString(out.resolve("summary.md"), md, StandardCharsets.UTF_8);
        System.out.print(md);
    }

    static void writeCsv(Path file, List<Map<String, String>> results, List<Map<String, String>> failures) throws IOException {
        Set<String> columns = new LinkedHashSet<>(List.of("round", "slot", "workload", "peer", "status", "figure_us", "median_us",
                "min_us", "mean_us", "samples", "repeat", "warmup", "setup_us", "create_us", "recreate_us", "first_us", "threads"));
        for (Map<String, String> r : results) {
            columns.addAll(r.keySet());
        }
        columns.remove("kind");
        StringBuilder sb = new StringBuilder(String.join(",", columns)).append('\n');
        List<Map<String, String>> rows = new ArrayList<>();
        for (Map<String, String> r : results) {
            Map<String, String> row = new LinkedHashMap<>(r);
            row.put("status", "ok");
            row.put("figure_us", String.format(Locale.ROOT, "%.6g", figure(r)));
            rows.add(row);
        }
        for (Map<String, String> f : failures) {
            Map<String, String> row = new LinkedHashMap<>(f);
            row.put("status", "failed");
            rows.add(row);
        }
        for (Map<String, String> row : rows) {
            List<String> cells = new ArrayList<>();
            for (String c : columns) {
                String v = row.getOrDefault(c, "");
                cells.add(v.contains(",") || v.contains("\"") ? '"' + v.replace("\"", "\"\"") + '"' : v);
            }
            sb.append(String.join(",", cells)).append('\n');
        }
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    static String markdown(List<Map<String, String>> meta, List<Map<String, String>> probes, List<Map<String, String>> results,
            List<Map<String, String>> failures, List<Map<String, String>> skips) {
        StringBuilder md = new StringBuilder("# deepnet and its peers, side by side\n\n");
        for (Map<String, String> m : meta) {
            m.forEach((k, v) -> {
                if (!k.equals("kind")) {
                    md.append("- ").append(k.replace('_', ' ')).append(": ").append(v).append('\n');
                }
            });
        }
        md.append("\nEach figure: the median over rounds of each round's median time per call (LeNet epoch: mean time per"
                + " minibatch x 937.5). Ratio = peer time / baseline time = baseline speed / peer speed: **above 1, deepnet is faster**"
                + " (nets: baseline `deepnet`; primitives: baseline `ffm`, deepnet's dnnl handles). GFLOP/s counts a multiply-add as"
                + " 2. Setup, creation and the first call are medians too, and are not in the figure: setup is everything before the"
                + " first call (nets: building and compiling the model; primitives: engine, memories, primitive, inputs in place);"
                + " create is the primitive descriptor and primitive, the first in a fresh process; create again is the same"
                + " primitive once more (oneDNN's primitive cache hits); for nets and deepnet's Ops, primitives are created inside"
                + " the first call.\n");
        for (boolean nets : new boolean[] {true, false}) {
            String baseline = nets ? "deepnet" : "ffm";
            md.append(nets ? "\n## Nets: deepnet and PyTorch\n\n| workload | peer | time | range over rounds | rounds | throughput"
                    + " | setup | first call | ratio |\n|---|---|---|---|---|---|---|---|---|\n"
                    : "\n## Primitives: C, FFM, JNI and deepnet's Ops\n\n| primitive | peer | time per call | range over rounds | rounds"
                    + " | GFLOP/s | create | create again | first call | ratio | oneDNN chose |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (Workload w : WORKLOADS) {
                if (w.net() != nets) {
                    continue;
                }
                Map<String, List<Map<String, String>>> byPeer = new TreeMap<>(
                        Comparator.comparingInt(PeerSummary::order).thenComparing(Comparator.naturalOrder()));
                for (Map<String, String> r : results) {
                    if (w.id().equals(r.get("workload"))) {
                        byPeer.computeIfAbsent(r.get("peer"), k -> new ArrayList<>()).add(r);
                    }
                }
                for (Map<String, String> f : failures) {
                    if (w.id().equals(f.get("workload"))) {
                        byPeer.computeIfAbsent(f.get("peer"), k -> new ArrayList<>());
                    }
                }
                if (byPeer.isEmpty()) {
                    continue;
                }
                double base = byPeer.containsKey(baseline) ? median(figures(byPeer.get(baseline))) : Double.NaN;
                boolean first = true;
                for (var e : byPeer.entrySet()) {
                    String peer = e.getKey();
                    List<Map<String, String>> rs = e.getValue();
                    long failed = failures.stream().filter(f -> w.id().equals(f.get("workload")) && peer.equals(f.get("peer"))).count();
                    List<Double> figs = figures(rs);
                    double t = median(figs);
                    double lo = figs.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
                    double hi = figs.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
                    String name = PEER_NAMES.getOrDefault(peer, peer);
                    if (peer.equals("torch") && !rs.isEmpty()) {
                        name += " " + rs.get(0).getOrDefault("impl", "").replace("torch-", "");
                    }
                    md.append("| ").append(first ? w.title() : "").append(" | ").append(name).append(" | ").append(time(t)).append(" | ")
                            .append(rs.isEmpty() ? "—" : time(lo) + " – " + time(hi)).append(" | ").append(rs.size())
                            .append(failed > 0 ? " (+" + failed + " failed)" : "").append(" | ");
                    if (nets) {
                        double images = w.id().equals("lenet-epoch") ? 60000 : rs.isEmpty() ? Double.NaN : number(rs.get(0), "batch");
                        String per = w.id().equals("autoencoder-step") ? " steps/s" : " images/s";
                        md.append(Double.isNaN(t) ? "—" : fmt(images / (t / 1e6)) + per).append(" | ")
                                .append(time(median(values(rs, "setup_us")))).append(" | ")
                                .append(time(median(values(rs, "first_us")))).append(" | ");
                    } else {
                        md.append(w.gflopPerCall() > 0 && !Double.isNaN(t) ? fmt(w.gflopPerCall() / (t / 1e6)) : "—").append(" | ")
                                .append(time(median(values(rs, "create_us")))).append(" | ")
                                .append(time(median(values(rs, "recreate_us")))).append(" | ")
                                .append(time(median(values(rs, "first_us")))).append(" | ");
                    }
                    md.append(peer.equals(baseline) ? "1 (baseline)" : fmt(t / base)).append(" |");
                    if (!nets) {
                        md.append(' ').append(rs.isEmpty() ? "—" : rs.get(0).getOrDefault("impl", "—")).append(" |");
                    }
                    md.append('\n');
                    first = false;
                }
            }
        }
        md.append(checks(results));
        if (!probes.isEmpty()) {
            md.append("\n## What each peer loaded\n\n");
            for (Map<String, String> p : probes) {
                StringBuilder sb = new StringBuilder();
                p.forEach((k, v) -> {
                    if (!k.equals("kind") && !k.equals("peer")) {
                        sb.append(sb.isEmpty() ? "" : "; ").append(k).append(' ').append(v);
                    }
                });
                md.append("- `").append(p.get("peer")).append("`: ").append(sb).append('\n');
            }
        }
        if (!skips.isEmpty() || !failures.isEmpty()) {
            md.append("\n## Skipped and failed\n\n");
            for (Map<String, String> s : skips) {
                md.append("- skipped `").append(s.get("peer")).append("`: ").append(s.getOrDefault("reason", ""))
                        .append('\n');
            }
            for (Map<String, String> f : failures) {
                md.append("- failed: round ").append(f.get("round")).append(", ").append(f.get("workload")).append(" on `")
                        .append(f.get("peer")).append("`: ").append(f.getOrDefault("reason", "")).append('\n');
            }
        }
        return md.toString();
    }

    /** Same nets (parameter counts) and same results (primitive checksums) across peers. */
    static String checks(List<Map<String, String>> results) {
        StringBuilder sb = new StringBuilder();
        for (Workload w : WORKLOADS) {
            Map<String, Set<String>> params = new TreeMap<>();
            Map<String, Double> sums = new TreeMap<>();
            for (Map<String, String> r : results) {
                if (!w.id().equals(r.get("workload"))) {
                    continue;
                }
                if (r.containsKey("params")) {
                    params.computeIfAbsent(r.get("params"), k -> new LinkedHashSet<>()).add(r.get("peer"));
                }
                double c = number(r, "checksum");
                if (!Double.isNaN(c)) {
                    sums.putIfAbsent(r.get("peer"), c);
                }
            }
            if (params.size() > 1) {
                sb.append("- **").append(w.id()).append(": parameter counts differ between peers** ").append(params).append('\n');
            } else if (params.size() == 1) {
                sb.append("- ").append(w.id()).append(": every peer's net has ")
                        .append(String.format(Locale.ROOT, "%,d", Long.parseLong(params.keySet().iterator().next())))
                        .append(" parameters\n");
            }
            if (!sums.isEmpty()) {
                double ref = sums.values().iterator().next();
                boolean agree = sums.values().stream().allMatch(s -> Math.abs(s - ref) <= 1e-3 * Math.max(1, Math.abs(ref)));
                sb.append(agree ? "- " : "- **").append(w.id()).append(agree ? ": output checksums agree " : ": output checksums DIFFER** ")
                        .append(sums.toString().replace("=", " ")).append('\n');
            }
        }
        return sb.isEmpty() ? "" : "\n## Same work?\n\n" + sb;
    }

    static int order(String peer) {
        int i = new ArrayList<>(PEER_NAMES.keySet()).indexOf(peer);
        return i < 0 ? 100 + Math.abs(peer.hashCode() % 100) : i;
    }

    static List<Double> figures(List<Map<String, String>> rs) {
        List<Double> v = new ArrayList<>();
        for (Map<String, String> r : rs) {
            v.add(figure(r));
        }
        return v;
    }

    static List<Double> values(List<Map<String, String>> rs, String key) {
        return new ArrayList<>(rs.stream().map(r -> number(r, key)).toList());
    }
}
