package dev.deepnet.fuzz;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs a (format, seed) over a range of inputs in child JVMs ({@link FuzzChild}), one at a time,
 * and collects what they report. A child that dies — a crash in native code, an exit, a hang
 * halted by its watchdog or killed here after a silence — is reported as a finding on the input
 * it was loading (the file it left behind), and a new child continues from the next input.
 *
 * <p>Children run with the parent's JDK and class path, {@code --enable-native-access}, a
 * bounded heap and, through {@code ulimit -v}, a bounded address space: the heap bound makes a
 * loader that would allocate gigabytes on the Java heap fail, the address-space bound does the
 * same for off-heap memory (arenas), which the heap bound does not cover. One thread of OpenMP.
 */
public final class FuzzRunner {
    private FuzzRunner() {}

    /**
     * How children run: where findings go, inputs per child, the per-input time bound, memory
     * bounds in MB (0: none). A child with a 512 MB heap peaks at about 1 GB of address space
     * (heap, metaspace, code cache, stacks), so 1.5 GB leaves a loader about 500 MB off-heap: as
     * much as the heap bound allows on it, far more than any small input needs.
     */
    public record Settings(Path findings, long batch, long timeoutMillis, int heapMb, int addressSpaceMb) {
        public static Settings defaults(Path findings) {
            return new Settings(findings, 20_000, 10_000, 512, 1_536);
        }

        public Settings withBatch(long inputs) {
            return new Settings(findings, inputs, timeoutMillis, heapMb, addressSpaceMb);
        }

        public Settings withTimeoutMillis(long millis) {
            return new Settings(findings, batch, millis, heapMb, addressSpaceMb);
        }
    }

    /** One input that broke the oracle; {@code input} is its saved file ({@code .txt} beside it says how it was made). */
    public record Finding(String format, long seed, long index, String kind, String where, String summary, Path input) {
        /** What groups findings of one cause: the kind and the place. */
        public String signature() {
            return kind + " at " + where;
        }
    }

    /** What a run found; counts are of inputs, {@code wrapped} counts rejections by the JDK exception they wrap. */
    public record Report(String format, long seed, long inputs, long successes, long rejections, Map<String, Long> wrapped,
            List<Finding> findings, int childJvms, long millis) {

        static Report empty(String format, long seed) {
            return new Report(format, seed, 0, 0, 0, Map.of(), List.of(), 0, 0);
        }

        Report plus(Report o) {
            Map<String, Long> w = new LinkedHashMap<>(wrapped);
            o.wrapped.forEach((k, v) -> w.merge(k, v, Long::sum));
            List<Finding> f = new ArrayList<>(findings);
            f.addAll(o.findings);
            return new Report(format, seed, inputs + o.inputs, successes + o.successes, rejections + o.rejections, w, f,
                    childJvms + o.childJvms, millis + o.millis);
        }

        public String summaryLine() {
            long wrappedCount = wrapped.values().stream().mapToLong(Long::longValue).sum();
            return String.format("%s (seed %d): %d inputs in %.1f s, %d child JVMs: %d loaded, %d rejected (%d of them wrapping a"
                    + " JDK exception), %d findings", format, seed, inputs, millis / 1000.0, childJvms, successes, rejections,
                    wrappedCount, findings.size());
        }

        /** Findings grouped by signature, most frequent first, each with its first inputs and the first one's mutations. */
        public String describeFindings() {
            Map<String, List<Finding>> groups = new LinkedHashMap<>();
            for (Finding f : findings) {
                groups.computeIfAbsent(f.signature(), k -> new ArrayList<>()).add(f);
            }
            StringBuilder b = new StringBuilder();
            groups.entrySet().stream().sorted((x, y) -> y.getValue().size() - x.getValue().size()).forEach(e -> {
                List<Finding> g = e.getValue();
                Finding first = g.getFirst();
                b.append(String.format("  %d x %s%n", g.size(), e.getKey()));
                b.append("      e.g. ").append(first.summary()).append('\n');
                b.append("      inputs: ").append(String.join(", ", g.stream().limit(8).map(f -> FuzzInput.stem(f.seed(), f.index())).toList()))
                        .append(g.size() > 8 ? ", ..." : "").append('\n');
                b.append("      first: ").append(first.input()).append('\n');
                for (String line : mutations(first.input())) {
                    b.append("        ").append(line).append('\n');
                }
            });
            return b.toString();
        }

        /** The wrapped JDK exceptions by place, for the loaders' authors. */
        public String describeWrapped() {
            StringBuilder b = new StringBuilder();
            wrapped.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
                    .forEach(e -> b.append(String.format("  %d x %s%n", e.getValue(), e.getKey())));
            return b.toString();
        }
    }

    /** The "from corpus file" and mutation lines of a finding's description. */
    static List<String> mutations(Path bin) {
        Path txt = bin.resolveSibling(bin.getFileName().toString().replace(".bin", ".txt"));
        if (!Files.exists(txt)) {
            return List.of("(no description: " + txt + " is missing)");
        }
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(txt)) {
                if (line.startsWith("bytes:")) {
                    break;
                }
                if (line.startsWith("from corpus file:") || line.startsWith("  ")) {
                    out.add(line.strip());
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes what an earlier run of {@code seed} left in the format's findings folder. */
    public static void clean(String format, long seed, Settings settings) throws IOException {
        Path dir = settings.findings().resolve(FuzzFormats.create(format).name());
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.startsWith(seed + "-")) {
                    Files.delete(f);
                } else if (name.startsWith(".scratch-")) {
                    FuzzChild.deleteTree(f);
                }
            }
        }
    }

    /**
     * Runs inputs {@code [from, from + count)} of {@code format} with {@code seed}, in batches of
     * {@code settings.batch()} per child, stopping early at {@code deadline} (epoch millis; 0: none).
     *
     * @throws IllegalStateException when a child cannot start or dies outside a loader (a harness problem)
     */
    public static Report run(String format, long seed, long from, long count, long deadline, Settings settings, PrintStream log)
            throws IOException, InterruptedException {
        String name = FuzzFormats.create(format).name();
        Path dir = Files.createDirectories(settings.findings().resolve(name));
        Report total = Report.empty(name, seed);
        long next = from;
        long end = from + count;
        while (next < end && (deadline == 0 || System.currentTimeMillis() < deadline)) {
            Batch batch = new Batch(format, name, seed, next, Math.min(settings.batch(), end - next), deadline, settings, dir);
            Report r = batch.run();
            total = total.plus(r);
            if (log != null && batch.next < end && (deadline == 0 || System.currentTimeMillis() < deadline)) {
                log.println("  " + name + ": " + (batch.next - from) + " of " + count + " inputs, " + total.findings().size()
                        + " findings so far");
            }
            next = batch.next;
        }
        return total;
    }

    /** One child JVM's worth of inputs; {@code next} is where the following child starts. */
    private static final class Batch {
        private final String format;
        private final String name;
        private final long seed;
        private final long from;
        private final long count;
        private final long deadline;
        private final Settings settings;
        private final Path dir;
        long next;

        private long successes;
        private long rejections;
        private final Map<String, Long> wrapped = new LinkedHashMap<>();
        private final List<Finding> findings = new ArrayList<>();
        private int children;

        Batch(String format, String name, long seed, long from, long count, long deadline, Settings settings, Path dir) {
            this.format = format;
            this.name = name;
            this.seed = seed;
            this.from = from;
            this.count = count;
            this.deadline = deadline;
            this.settings = settings;
            this.dir = dir;
            this.next = from;
        }

        Report run() throws IOException, InterruptedException {
            long started = System.currentTimeMillis();
            long end = from + count;
            while (next < end) {
                if (!child(end)) {
                    break; // the deadline stopped it
                }
            }
            return new Report(name, seed, next - from, successes, rejections, wrapped, findings, children,
                    System.currentTimeMillis() - started);
        }

        /** Runs one child from {@code next}; false when it stopped at the deadline. */
        private boolean child(long end) throws IOException, InterruptedException {
            children++;
            Path stderr = dir.resolve(seed + "-" + next + ".stderr.log");
            ProcessBuilder pb = new ProcessBuilder(command(end - next));
            childEnvironment(pb.environment());
            pb.redirectError(stderr.toFile());
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process p = pb.start();
            BlockingQueue<Optional<String>> lines = new LinkedBlockingQueue<>();
            Thread reader = Thread.ofPlatform().daemon().name("fuzz-child-reader").start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.add(Optional.of(line));
                    }
                } catch (IOException e) {
                    lines.add(Optional.of("READ-ERROR " + e)); // shown in the failure: the pipe broke
                } finally {
                    lines.add(Optional.empty());
                }
            });

            boolean ready = false;
            long last = next - 1; // the last input the child finished
            Long done = null;
            boolean killed = false;
            List<String> unexpected = new ArrayList<>();
            // The child's own watchdog ends hangs after the time bound; this silence bound is the backstop
            // for a JVM too wedged to run its watchdog, and covers start-up (building the corpus).
            long silenceMillis = settings.timeoutMillis() + 60_000;
            while (true) {
                Optional<String> line = lines.poll(silenceMillis, TimeUnit.MILLISECONDS);
                if (line == null) {
                    p.destroyForcibly();
                    killed = true;
                    continue; // the reader sees the end of the stream next
                }
                if (line.isEmpty()) {
                    break;
                }
                String l = line.get();
                if (l.equals("READY")) {
                    ready = true;
                } else if (l.startsWith("DONE ")) {
                    done = Long.parseLong(l.substring(5).trim());
                } else if (l.startsWith("s ")) {
                    successes++;
                    last = Long.parseLong(l.substring(2));
                } else if (l.startsWith("r ")) {
                    rejections++;
                    last = Long.parseLong(l.substring(2));
                } else if (l.startsWith("w ")) {
                    String[] f = l.substring(2).split("\t", 3);
                    rejections++;
                    last = Long.parseLong(f[0]);
                    wrapped.merge(f[1] + " at " + f[2], 1L, Long::sum);
                } else if (l.startsWith("F ")) {
                    String[] f = l.substring(2).split("\t", 4);
                    last = Long.parseLong(f[0]);
                    findings.add(new Finding(name, seed, last, f[1], f[2], f[3], dir.resolve(FuzzInput.stem(seed, last) + ".bin")));
                } else {
                    unexpected.add(l);
                }
            }
            reader.join();
            int exit = p.waitFor();
            if (!unexpected.isEmpty()) {
                // Not the protocol: the JVM itself printing. Kept with the child's standard error; the
                // counts (every input has one outcome) would show a protocol line lost among them.
                Files.write(stderr, unexpected, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            if (done != null && exit == 0) {
                if (unexpected.isEmpty()) {
                    Files.delete(stderr);
                }
                next = done;
                return done >= end || deadline == 0 || System.currentTimeMillis() < deadline;
            }
            if ((exit == FuzzChild.EXIT_HANG || exit == FuzzChild.EXIT_AFTER_ERROR) && !findings.isEmpty()
                    && findings.getLast().index() == last) {
                Files.delete(stderr); // the child reported input 'last' (a hang, an Error) and ended itself
                next = last + 1;
                return true;
            }
            long culprit = last + 1;
            Path bin = dir.resolve(FuzzInput.stem(seed, culprit) + ".bin");
            if (!ready || !Files.exists(bin)) {
                throw new IllegalStateException("the " + name + " child JVM (seed " + seed + ", from input " + next + ") "
                        + (ready ? "died between inputs" : "failed before its first input") + " with exit code " + exit
                        + "; its standard error (" + stderr + ") ends with:\n" + tail(stderr, 30));
            }
            crashed(culprit, bin, exit, killed, p.pid(), stderr);
            next = culprit + 1;
            return true;
        }

        /** Records input {@code culprit} as the one the child died on, with what the JVM left about why. */
        private void crashed(long culprit, Path bin, int exit, boolean killed, long pid, Path stderr) throws IOException {
            String stem = FuzzInput.stem(seed, culprit);
            Path hsErr = dir.resolve(seed + "-hs_err-" + pid + ".log");
            String kind;
            String where = "?";
            if (killed) {
                kind = "hang (killed after " + (settings.timeoutMillis() + 60_000) / 1000 + " s of silence)";
            } else if (Files.exists(hsErr)) {
                Path kept = dir.resolve(stem + ".hs_err.log");
                Files.move(hsErr, kept, StandardCopyOption.REPLACE_EXISTING);
                List<String> log = Files.readAllLines(kept, StandardCharsets.ISO_8859_1);
                kind = "crash: " + crashReason(log);
                where = problematicFrame(log);
            } else {
                kind = exit > 128 ? "killed by signal " + (exit - 128) : "exit " + exit;
            }
            Path keptStderr = dir.resolve(stem + ".stderr.log");
            Files.move(stderr, keptStderr, StandardCopyOption.REPLACE_EXISTING);
            String lastLines = tail(keptStderr, 3).replaceAll("\\s+", " ").strip();
            String summary = "the child JVM died while loading it (exit code " + exit + ")"
                    + (where.equals("?") ? "" : "; problematic frame: " + where)
                    + (lastLines.isEmpty() ? "" : "; its stderr ends: " + lastLines);
            Files.writeString(bin.resolveSibling(stem + ".txt"), "outcome: " + kind + "\n" + summary + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            findings.add(new Finding(name, seed, culprit, kind, where, summary, bin));
        }

        private List<String> command(long inputs) {
            return childCommand(settings, dir.resolve(seed + "-hs_err-%p.log"), List.of("--format", format, "--seed",
                    Long.toString(seed), "--from", Long.toString(next), "--count", Long.toString(inputs), "--findings",
                    settings.findings().toString(), "--timeout-ms", Long.toString(settings.timeoutMillis()), "--until",
                    Long.toString(deadline)));
        }
    }

    /**
     * The command that starts a {@link FuzzChild} with {@code args}: this JVM's java, native
     * access, the memory bounds, serial GC (one thread for the heap, as the child is one thread of
     * work), crash logs to {@code errorFile} (when not null) and no core dumps.
     */
    static List<String> childCommand(Settings settings, Path errorFile, List<String> args) {
        List<String> cmd = new ArrayList<>();
        if (settings.addressSpaceMb() > 0) {
            cmd.addAll(List.of("/bin/sh", "-c", "ulimit -v \"$0\" && exec \"$@\"", Long.toString(settings.addressSpaceMb() * 1024L)));
        }
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx" + settings.heapMb() + "m", "-XX:+UseSerialGC",
                // Smaller reservations than the defaults, so the address-space bound is left to the loaders.
                "-XX:CompressedClassSpaceSize=64m", "-XX:ReservedCodeCacheSize=64m", "-XX:-CreateCoredumpOnCrash",
                // Compiled code would otherwise throw preallocated exceptions without message or stack
                // once an exception is frequent: the oracle reads both.
                "-XX:-OmitStackTraceInFastThrow", "-Djava.awt.headless=true",
                // HotSpot prints a crash's summary to standard output: keep it out of the protocol.
                "-XX:+DisplayVMOutputToStderr"));
        if (errorFile != null) {
            cmd.add("-XX:ErrorFile=" + errorFile);
        }
        cmd.addAll(List.of("-cp", classPath(), FuzzChild.class.getName()));
        cmd.addAll(args);
        return cmd;
    }

    /** The environment children need: one OpenMP thread, and few glibc arenas (each thread's would eat the address-space bound). */
    static void childEnvironment(Map<String, String> env) {
        env.put("OMP_NUM_THREADS", "1");
        env.put("OMP_WAIT_POLICY", "passive");
        env.put("MALLOC_ARENA_MAX", "2");
    }

    /**
     * The class path for children: surefire's test class path when running under surefire (its
     * own {@code java.class.path} may be a manifest-only booter jar), else this JVM's.
     */
    static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    /** From a HotSpot crash log: the frame it blames, e.g. {@code C  [libjavajpeg.so+0x1f3a]  decode_mcu+0x2a}. */
    static String problematicFrame(List<String> hsErr) {
        for (int i = 0; i + 1 < hsErr.size(); i++) {
            if (hsErr.get(i).startsWith("# Problematic frame:")) {
                return hsErr.get(i + 1).replaceFirst("^#\\s*", "").replaceAll("\\s+", " ").strip();
            }
        }
        return "?";
    }

    /** From a HotSpot crash log: the signal or error, e.g. {@code SIGSEGV}. */
    static String crashReason(List<String> hsErr) {
        for (String line : hsErr) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^#\\s+(SIG[A-Z]+|Internal Error|Out of Memory Error|"
                    + "There is insufficient memory)").matcher(line);
            if (m.find()) {
                return m.group(1);
            }
        }
        return "see the hs_err log";
    }

    private static String tail(Path file, int n) throws IOException {
        if (!Files.exists(file)) {
            return "";
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }
}
