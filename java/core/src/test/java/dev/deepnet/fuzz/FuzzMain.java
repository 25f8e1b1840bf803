package dev.deepnet.fuzz;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line behind {@code scripts/fuzz}: runs the harness for a count or a duration, on
 * all formats or named ones, with a seed (time-based unless given, and always printed), and
 * prints per format the inputs, successes, typed rejections and findings, and where they are.
 * Exits 0 without findings, 1 with some, 2 on a usage error.
 */
public final class FuzzMain {
    private FuzzMain() {}

    private static final String USAGE = """
            usage: scripts/fuzz [--formats F1,F2] [--count N | --minutes M] [--seed S] [options]
                   scripts/fuzz --replay FILE [--formats F]
              --formats         formats to fuzz, comma-separated (default: all: %s)
              --count N         inputs per format (default 10000)
              --minutes M       run for M minutes in all, the formats taking turns batch by batch
              --seed S          the run's seed (default: from the clock, printed); input i of a format is fixed by (S, i)
              --findings DIR    where findings go (default java/core/target/fuzz-findings)
              --batch N         inputs per child JVM (default 20000; 5000 with --minutes, so formats take turns)
              --timeout-seconds T  time bound per input (default 10)
              --heap-mb M       child heap (default 512); --address-space-mb M: child address space (default 1536, 0: unbounded)
              --replay FILE     load one saved input in a child JVM and print the outcome with its stack trace
            """;

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out));
    }

    static int run(String[] args, PrintStream out) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                out.print(USAGE.formatted(String.join(",", FuzzFormats.NAMES)));
                return 0;
            }
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                return usage(out, "expected --option value, got '" + args[i] + "'");
            }
            o.put(args[i], args[++i]);
        }
        for (String k : o.keySet()) {
            if (!List.of("--formats", "--count", "--minutes", "--seed", "--findings", "--batch", "--timeout-seconds", "--heap-mb",
                    "--address-space-mb", "--replay").contains(k)) {
                return usage(out, "unknown option " + k);
            }
        }
        List<String> formats = o.containsKey("--formats") ? List.of(o.get("--formats").split(",")) : FuzzFormats.NAMES;
        for (String f : formats) {
            if (!FuzzFormats.NAMES.contains(f)) {
                return usage(out, "unknown format '" + f + "'");
            }
        }
        Path findings = Path.of(o.getOrDefault("--findings", "java/core/target/fuzz-findings")).toAbsolutePath();
        boolean timed = o.containsKey("--minutes");
        FuzzRunner.Settings settings = new FuzzRunner.Settings(findings,
                Long.parseLong(o.getOrDefault("--batch", timed ? "5000" : "20000")),
                Math.round(Double.parseDouble(o.getOrDefault("--timeout-seconds", "10")) * 1000),
                Integer.parseInt(o.getOrDefault("--heap-mb", "512")), Integer.parseInt(o.getOrDefault("--address-space-mb", "1536")));

        if (o.containsKey("--replay")) {
            Path file = Path.of(o.get("--replay")).toAbsolutePath();
            String format = o.containsKey("--formats") ? formats.getFirst() : file.getParent().getFileName().toString();
            if (!FuzzFormats.NAMES.contains(format)) {
                return usage(out, "cannot tell the format of " + file + " from its folder; give --formats");
            }
            return replay(format, file, settings, out);
        }

        long seed = o.containsKey("--seed") ? Long.parseLong(o.get("--seed")) : System.currentTimeMillis();
        long count = timed ? Long.MAX_VALUE / 2 : Long.parseLong(o.getOrDefault("--count", "10000"));
        long deadline = timed ? System.currentTimeMillis() + Math.round(Double.parseDouble(o.get("--minutes")) * 60_000) : 0;
        out.println("deepnet fuzz: formats " + String.join(", ", formats) + "; seed " + seed + " (repeat with --seed " + seed + "); "
                + (timed ? o.get("--minutes") + " minutes" : count + " inputs per format") + "; findings in " + findings);

        Map<String, FuzzRunner.Report> reports = new LinkedHashMap<>();
        Map<String, Long> next = new LinkedHashMap<>();
        for (String f : formats) {
            FuzzRunner.clean(f, seed, settings);
            reports.put(f, FuzzRunner.Report.empty(f, seed));
            next.put(f, 0L);
        }
        if (timed) {
            // Formats take turns, one batch each, so every format gets a share of the time.
            while (System.currentTimeMillis() < deadline) {
                for (String f : formats) {
                    if (System.currentTimeMillis() >= deadline) {
                        break;
                    }
                    FuzzRunner.Report r = FuzzRunner.run(f, seed, next.get(f), settings.batch(), deadline, settings, null);
                    reports.merge(f, r, FuzzRunner.Report::plus);
                    next.merge(f, r.inputs(), Long::sum);
                    out.println("  " + reports.get(f).summaryLine());
                }
            }
        } else {
            for (String f : formats) {
                reports.put(f, FuzzRunner.run(f, seed, 0, count, 0, settings, out));
                out.println("  " + reports.get(f).summaryLine());
            }
        }

        out.println();
        out.println(String.format("%-12s %10s %10s %10s %9s %9s %8s", "format", "inputs", "loaded", "rejected", "findings", "seconds", "JVMs"));
        long totalFindings = 0;
        List<String> details = new ArrayList<>();
        for (FuzzRunner.Report r : reports.values()) {
            out.println(String.format("%-12s %10d %10d %10d %9d %9.1f %8d", r.format(), r.inputs(), r.successes(), r.rejections(),
                    r.findings().size(), r.millis() / 1000.0, r.childJvms()));
            totalFindings += r.findings().size();
            if (!r.findings().isEmpty()) {
                details.add(r.format() + ": " + r.findings().size() + " findings in " + findings.resolve(r.format()) + "\n"
                        + r.describeFindings());
            }
            if (!r.wrapped().isEmpty()) {
                details.add(r.format() + ": typed rejections wrapping a JDK exception (messages worth improving):\n" + r.describeWrapped());
            }
        }
        out.println();
        details.forEach(out::println);
        out.println(totalFindings == 0 ? "no findings" : totalFindings + " findings; each <seed>-<index>.bin has a .txt saying how it was"
                + " made; replay one with scripts/fuzz --replay FILE");
        return totalFindings == 0 ? 0 : 1;
    }

    private static int replay(String format, Path file, FuzzRunner.Settings settings, PrintStream out) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(FuzzRunner.childCommand(settings, null, List.of("--format", format, "--replay",
                file.toString(), "--timeout-ms", Long.toString(settings.timeoutMillis())))).inheritIO();
        FuzzRunner.childEnvironment(pb.environment());
        int exit = pb.start().waitFor();
        if (exit > 1) {
            out.println(file + ": the child JVM ended with exit code " + exit + (exit == FuzzChild.EXIT_HANG ? " (a hang)" : " (a crash)"));
        }
        return exit == 0 ? 0 : 1;
    }

    private static int usage(PrintStream out, String problem) {
        out.println("scripts/fuzz: " + problem);
        out.print(USAGE.formatted(String.join(",", FuzzFormats.NAMES)));
        return 2;
    }
}
