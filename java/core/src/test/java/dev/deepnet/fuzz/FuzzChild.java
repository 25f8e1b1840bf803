package dev.deepnet.fuzz;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The main class of a child JVM: runs inputs {@code [from, from + count)} of one (format, seed)
 * through the format's loader and tells the parent ({@link FuzzRunner}) on standard output, one
 * line per input, flushed before the next input starts:
 *
 * <pre>
 * READY                                 the corpus is built; inputs follow
 * s INDEX                               loaded
 * r INDEX                               rejected with the documented exception
 * w INDEX \t CAUSE \t WHERE             rejected, but wrapping a JDK programming error (informational)
 * F INDEX \t KIND \t WHERE \t SUMMARY   a finding
 * DONE NEXT                             the batch ended; NEXT is the first index not run
 * </pre>
 *
 * Before loading input {@code i} it writes the input to {@code <findings>/<format>/<seed>-<i>.bin}
 * and its description to {@code .txt}; it deletes both when the loader passes, and appends the
 * outcome and stack trace to the {@code .txt} of a finding. So when the JVM dies inside a loader
 * the culprit is on disk, and the parent knows its index: the one after the last line.
 *
 * <p>A watchdog thread bounds each input's time: past the bound it reports a hang with the
 * loader's stack and halts the JVM ({@link #EXIT_HANG}). After a finding that is an Error the
 * child exits too ({@link #EXIT_AFTER_ERROR}), so every input starts in a sound JVM. The loaders' own output goes to standard
 * error, so nothing they print can be mistaken for the protocol.
 *
 * <p>{@code --replay FILE} loads one file and prints the outcome with the whole stack trace.
 */
public final class FuzzChild {
    private FuzzChild() {}

    /** The exit code after the watchdog reported a hang. */
    static final int EXIT_HANG = 3;

    /**
     * The exit code after a finding that was an {@link Error} (out of memory, stack overflow). A
     * fresh JVM runs the next input: after its few preallocated ones, HotSpot throws
     * OutOfMemoryErrors without a stack trace, which would make later findings depend on earlier ones.
     */
    static final int EXIT_AFTER_ERROR = 4;

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.setOut(System.err);
        FuzzFormat format = FuzzFormats.create(required(options, "--format"));
        long timeoutMillis = Long.parseLong(options.getOrDefault("--timeout-ms", "10000"));
        Watchdog watchdog = new Watchdog(Thread.currentThread(), timeoutMillis, protocol);
        watchdog.start();
        if (options.containsKey("--replay")) {
            System.exit(replay(format, Path.of(options.get("--replay")), watchdog, protocol));
        }
        long seed = Long.parseLong(required(options, "--seed"));
        long from = Long.parseLong(required(options, "--from"));
        long count = Long.parseLong(required(options, "--count"));
        long until = Long.parseLong(options.getOrDefault("--until", "0")); // epoch millis; 0: no deadline
        Path dir = Files.createDirectories(Path.of(required(options, "--findings")).resolve(format.name()));
        Path scratch = Files.createDirectories(dir.resolve(".scratch-" + ProcessHandle.current().pid()));

        InputGenerator generator = new InputGenerator(format, format.seeds(scratch), seed);
        protocol.println("READY");
        protocol.flush();
        long next = from;
        for (; next < from + count; next++) {
            if (until > 0 && System.currentTimeMillis() >= until) {
                break;
            }
            FuzzInput input = generator.input(next);
            String stem = FuzzInput.stem(seed, next);
            Path bin = dir.resolve(stem + ".bin");
            Path txt = dir.resolve(stem + ".txt");
            Files.write(bin, input.bytes());
            Files.writeString(txt, input.describe(bin));
            Oracle.Outcome outcome = load(format, bin, scratch, next, txt, watchdog);
            switch (outcome.verdict()) {
                case SUCCESS -> {
                    delete(bin, txt);
                    protocol.println("s " + next);
                }
                case REJECTED -> {
                    delete(bin, txt);
                    protocol.println(outcome.kind().isEmpty() ? "r " + next
                            : "w " + next + "\t" + outcome.kind() + "\t" + Oracle.where(outcome.error()));
                }
                case FINDING -> {
                    Files.writeString(txt, "outcome: " + outcome.kind() + "\n" + stackTrace(outcome.error()),
                            StandardOpenOption.APPEND);
                    protocol.println("F " + next + "\t" + outcome.kind() + "\t" + Oracle.where(outcome.error()) + "\t"
                            + Oracle.summary(outcome.error()));
                    if (outcome.error() instanceof Error) {
                        protocol.flush();
                        deleteTree(scratch);
                        System.exit(EXIT_AFTER_ERROR);
                    }
                }
            }
            protocol.flush();
        }
        protocol.println("DONE " + next);
        protocol.flush();
        deleteTree(scratch);
        System.exit(0); // decoders may leave non-daemon threads (AWT's disposer); the batch is over
    }

    /** Runs the loader on one file under the watchdog; never returns if the watchdog claimed it as a hang. */
    private static Oracle.Outcome load(FuzzFormat format, Path file, Path scratch, long index, Path txt, Watchdog watchdog)
            throws InterruptedException {
        watchdog.begin(index, txt);
        Throwable thrown = null;
        try {
            format.load(file, scratch);
        } catch (Throwable t) { // everything, errors included, goes to the oracle: that is the test
            thrown = t;
        }
        if (!watchdog.end(index)) {
            Thread.sleep(Long.MAX_VALUE); // the watchdog is reporting this input as a hang and halting the JVM
        }
        return Oracle.judge(thrown, format.rejection());
    }

    private static int replay(FuzzFormat format, Path file, Watchdog watchdog, PrintStream out) throws Exception {
        Path scratch = Files.createTempDirectory("deepnet-fuzz-replay-");
        try {
            Oracle.Outcome outcome = load(format, file, scratch, 0, null, watchdog);
            out.println(file + " (" + format.name() + "): " + outcome.verdict() + (outcome.kind().isEmpty() ? "" : " (" + outcome.kind() + ")"));
            if (outcome.error() != null) {
                out.print(stackTrace(outcome.error()));
            }
            out.flush();
            return outcome.verdict() == Oracle.Verdict.FINDING ? 1 : 0;
        } finally {
            deleteTree(scratch);
        }
    }

    private static void delete(Path... files) throws IOException {
        for (Path f : files) {
            Files.delete(f);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            out.put(args[i], args[i + 1]);
        }
        return out;
    }

    private static String required(Map<String, String> options, String name) {
        String v = options.get(name);
        if (v == null) {
            throw new IllegalArgumentException("FuzzChild needs " + name);
        }
        return v;
    }

    /**
     * Bounds the time of each input. The worker announces an input with {@link #begin} and
     * finishes it with {@link #end}; both sides claim the input with a compare-and-set, so an
     * input is either finished or reported as a hang, never both.
     */
    private static final class Watchdog extends Thread {
        private static final long IDLE = -1;
        private static final long CLAIMED = -2;

        private final Thread worker;
        private final long timeoutMillis;
        private final PrintStream protocol;
        private final AtomicLong running = new AtomicLong(IDLE);
        private volatile long startedNanos;
        private volatile Path txt;

        Watchdog(Thread worker, long timeoutMillis, PrintStream protocol) {
            super("fuzz-watchdog");
            setDaemon(true);
            this.worker = worker;
            this.timeoutMillis = timeoutMillis;
            this.protocol = protocol;
        }

        void begin(long index, Path txt) {
            this.txt = txt;
            startedNanos = System.nanoTime();
            running.set(index);
        }

        /** False when the watchdog has claimed the input as a hang. */
        boolean end(long index) {
            return running.compareAndSet(index, IDLE);
        }

        @Override
        public void run() {
            while (true) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return; // nobody interrupts it; if someone does, stop watching rather than spin
                }
                long index = running.get();
                if (index < 0 || System.nanoTime() - startedNanos < timeoutMillis * 1_000_000 || !running.compareAndSet(index, CLAIMED)) {
                    continue;
                }
                Throwable hang = new Throwable("no result after " + timeoutMillis + " ms; the loader's thread was here");
                hang.setStackTrace(worker.getStackTrace());
                try {
                    if (txt != null) {
                        Files.writeString(txt, "outcome: hang\n" + stackTrace(hang), StandardOpenOption.APPEND);
                    }
                } catch (IOException e) {
                    hang.addSuppressed(e); // the protocol line below still reports the hang
                }
                protocol.println("F " + index + "\thang\t" + Oracle.where(hang) + "\t" + Oracle.summary(hang));
                protocol.flush();
                Runtime.getRuntime().halt(EXIT_HANG);
            }
        }
    }
}
