package dev.deepnet.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.fuzz.FuzzFormat.Seed;
import dev.deepnet.fuzz.Mutator.Mutation;
import dev.deepnet.fuzz.Oracle.Verdict;
import dev.deepnet.io.SafeTensorsException;
import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The harness itself: reproducible inputs, valid corpora, mutators that reach their structure, the oracle, and the child-JVM protocol. */
class FuzzHarnessTest {

    @TempDir
    Path dir;

    static List<String> formats() {
        return FuzzFormats.NAMES;
    }

    @ParameterizedTest
    @MethodSource("formats")
    void anInputDependsOnlyOnFormatSeedAndIndex(String name) throws IOException {
        FuzzFormat format = FuzzFormats.create(name);
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        InputGenerator first = new InputGenerator(format, format.seeds(a), 42);
        InputGenerator again = new InputGenerator(FuzzFormats.create(name), FuzzFormats.create(name).seeds(b), 42);
        InputGenerator other = new InputGenerator(format, format.seeds(a), 43);
        int differ = 0;
        for (long i = 0; i < 300; i += 3) { // also out of order: input i never depends on input i - 1
            FuzzInput x = first.input(i);
            FuzzInput y = again.input(i);
            assertArrayEquals(x.bytes(), y.bytes(), name + " input " + i);
            assertEquals(x.mutations(), y.mutations(), name + " input " + i);
            differ += Arrays.equals(x.bytes(), other.input(i).bytes()) ? 0 : 1;
        }
        assertTrue(differ > 90, name + ": another seed gives other inputs, but only " + differ + " of 100 differ");
    }

    @ParameterizedTest
    @MethodSource("formats")
    void everyCorpusFileLoads(String name) throws IOException {
        FuzzFormat format = FuzzFormats.create(name);
        List<Seed> seeds = format.seeds(dir);
        assertFalse(seeds.isEmpty());
        for (Seed s : seeds) {
            Path file = Files.write(dir.resolve(s.name() + ".bin"), s.bytes());
            format.load(file, dir); // throws, failing the test, if the corpus is not valid
        }
    }

    /** Each structure-aware mutator finds its structure in some corpus file and changes the bytes. */
    @ParameterizedTest
    @MethodSource("formats")
    void everyStructureMutatorAppliesToTheCorpus(String name) throws IOException {
        FuzzFormat format = FuzzFormats.create(name);
        List<Seed> seeds = format.seeds(dir);
        List<Mutator> mutators = format.structureMutators();
        assertFalse(mutators.isEmpty(), name + " has structure-aware mutators");
        for (int m = 0; m < mutators.size(); m++) {
            boolean changed = false;
            for (int k = 0; k < 40 && !changed; k++) {
                for (Seed s : seeds) {
                    Mutation result = mutators.get(m).apply(s.bytes(), new SplittableRandom(k));
                    if (result != null && !Arrays.equals(result.bytes(), s.bytes())) {
                        assertFalse(result.description().isBlank());
                        changed = true;
                        break;
                    }
                }
            }
            assertTrue(changed, name + ": structure mutator " + m + " never changed a corpus file");
        }
    }

    @Test
    void theOracleAcceptsSuccessAndTypedRejectionsWithAMessageOnly() {
        Path f = Path.of("x");
        assertEquals(Verdict.SUCCESS, Oracle.judge(null, SafeTensorsException.class).verdict());
        assertEquals(Verdict.REJECTED, Oracle.judge(new SafeTensorsException(f, "bad"), SafeTensorsException.class).verdict());
        Oracle.Outcome wrapped = Oracle.judge(new SafeTensorsException(f, "bad", new ArrayIndexOutOfBoundsException(3)),
                SafeTensorsException.class);
        assertEquals(Verdict.REJECTED, wrapped.verdict());
        assertEquals("ArrayIndexOutOfBoundsException", wrapped.kind());

        Oracle.Outcome blank = Oracle.judge(new IOException(" "), IOException.class);
        assertEquals(Verdict.FINDING, blank.verdict());
        assertEquals("empty message", blank.kind());
        Oracle.Outcome untyped = Oracle.judge(new IOException("another IOException"), SafeTensorsException.class);
        assertEquals("untyped IOException", untyped.kind());
        assertEquals("untyped IllegalArgumentException", Oracle.judge(new IllegalArgumentException("x"), IOException.class).kind());
        assertEquals("OutOfMemoryError", Oracle.judge(new OutOfMemoryError("Java heap space"), IOException.class).kind());
        assertEquals("StackOverflowError", Oracle.judge(new StackOverflowError(), IOException.class).kind());
        Oracle.Outcome hidden = Oracle.judge(new SafeTensorsException(f, "unreadable", new IOException("read failed",
                new OutOfMemoryError("Java heap space"))), SafeTensorsException.class);
        assertEquals(Verdict.FINDING, hidden.verdict());
        assertEquals("OutOfMemoryError wrapped in SafeTensorsException", hidden.kind());
        assertTrue(hidden.error() instanceof OutOfMemoryError);
    }

    /**
     * The protocol end to end on {@link TrapFormat}, whose loader misbehaves on chosen inputs:
     * each kind of failure is a finding on exactly its input, saved with its description, and the
     * run goes on in a new child after each death.
     */
    @Test
    void childJvmsReportCrashesExitsHangsAndErrorsOnTheirInputAndGoOn() throws Exception {
        FuzzRunner.Settings settings = FuzzRunner.Settings.defaults(dir).withTimeoutMillis(1500);
        FuzzRunner.Report r = FuzzRunner.run(TrapFormat.class.getName(), 7, 0, 18, 0, settings, null);

        Map<Long, String> kinds = new TreeMap<>();
        r.findings().forEach(f -> kinds.put(f.index(), f.kind()));
        assertEquals(List.of(3L, 5L, 7L, 9L, 11L, 13L, 15L, 17L), List.copyOf(kinds.keySet()), r.describeFindings());
        assertEquals("crash: SIGSEGV", kinds.get(3L));
        assertEquals("exit 7", kinds.get(5L));
        assertEquals("hang", kinds.get(7L));
        assertEquals("untyped NullPointerException", kinds.get(9L));
        assertEquals("OutOfMemoryError", kinds.get(11L));
        assertEquals("empty message", kinds.get(13L));
        assertEquals("StackOverflowError", kinds.get(15L));
        assertEquals("untyped IllegalStateException", kinds.get(17L));
        assertEquals(18, r.inputs());
        assertEquals(9, r.successes());
        assertEquals(1, r.rejections());
        assertEquals(6, r.childJvms(), "a new child after the crash, the exit, the hang, the OOM and the stack overflow");

        Path saved = dir.resolve("trap");
        for (long i = 0; i < 18; i++) {
            boolean finding = kinds.containsKey(i);
            assertEquals(finding, Files.exists(saved.resolve("7-" + i + ".bin")), "input " + i + " saved iff a finding");
            assertEquals(finding, Files.exists(saved.resolve("7-" + i + ".txt")), "description " + i + " saved iff a finding");
        }
        String crash = Files.readString(saved.resolve("7-3.txt"));
        assertTrue(crash.contains("from corpus file: sixteen-bytes") && crash.contains("outcome: crash"), crash);
        assertTrue(Files.exists(saved.resolve("7-3.hs_err.log")), "the JVM's crash log is kept beside the input");
        assertTrue(r.findings().stream().filter(f -> f.index() == 3).findFirst().orElseThrow().where().contains("libc.so"),
                r.describeFindings());
        assertTrue(Files.readString(saved.resolve("7-7.txt")).contains("outcome: hang"));
        assertTrue(Files.readString(saved.resolve("7-9.txt")).contains("java.lang.NullPointerException"));
    }

    @Test
    void aChildThatCannotStartIsAnErrorOfTheHarnessNotAFinding() {
        FuzzRunner.Settings settings = FuzzRunner.Settings.defaults(dir);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> FuzzRunner.run(BrokenCorpusFormat.class.getName(), 1, 0, 5, 0, settings, null));
        assertTrue(e.getMessage().contains("failed before its first input") && e.getMessage().contains("no corpus here"),
                e.getMessage());
    }

    /** A format whose corpus cannot be built: its child dies before the first input. */
    public static final class BrokenCorpusFormat implements FuzzFormat {
        @Override
        public String name() {
            return "broken";
        }

        @Override
        public List<Seed> seeds(Path scratch) throws IOException {
            throw new IOException("no corpus here");
        }

        @Override
        public List<Mutator> structureMutators() {
            return List.of();
        }

        @Override
        public void load(Path file, Path scratch) {
            throw new AssertionError("never called: there are no inputs");
        }

        @Override
        public Class<? extends IOException> rejection() {
            return IOException.class;
        }
    }

    /**
     * A format whose loader does, by the input's index (read from the file name the child gives
     * it), each thing the harness must survive: odd indices misbehave, even ones load.
     */
    public static final class TrapFormat implements FuzzFormat {
        @Override
        public String name() {
            return "trap";
        }

        @Override
        public List<Seed> seeds(Path scratch) {
            return List.of(new Seed("sixteen-bytes", new byte[16]));
        }

        @Override
        public List<Mutator> structureMutators() {
            return List.of();
        }

        @Override
        public void load(Path file, Path scratch) throws IOException {
            String name = file.getFileName().toString();
            int index = Integer.parseInt(name.substring(name.indexOf('-') + 1, name.indexOf('.')));
            switch (index) {
                case 1 -> throw new SafeTensorsException(file, "a typed rejection");
                case 3 -> crashInNativeCode();
                case 5 -> System.exit(7);
                case 7 -> sleepForever();
                case 9 -> throw new NullPointerException("an untyped exception");
                case 11 -> {
                    long[] huge = new long[Integer.MAX_VALUE - 8]; // 16 GB on a 512 MB heap
                    huge[0] = 1;
                }
                case 13 -> throw new IOException("");
                case 15 -> recurse(0);
                case 17 -> throw new IllegalStateException("an untyped exception after errors, in a fresh JVM");
                default -> { } // loads
            }
        }

        @Override
        public Class<? extends IOException> rejection() {
            return IOException.class;
        }

        /** strlen(NULL): a segmentation fault in C, as a broken native decoder would have. */
        @SuppressWarnings("restricted") // the point is to crash; the child runs with native access enabled
        private static void crashInNativeCode() {
            Linker linker = Linker.nativeLinker();
            MethodHandle strlen = linker.downcallHandle(linker.defaultLookup().find("strlen").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
            long n;
            try {
                n = (long) strlen.invokeExact(MemorySegment.NULL);
            } catch (Throwable t) {
                throw new AssertionError("strlen(NULL) should have killed the JVM, not thrown", t);
            }
            throw new AssertionError("strlen(NULL) returned " + n);
        }

        private static void sleepForever() {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                throw new AssertionError("the watchdog halts the JVM; nothing interrupts the loader", e);
            }
        }

        private static int recurse(int depth) {
            return recurse(depth + 1) + 1;
        }
    }

    @Test
    void aFindingIsReportedWithItsMutations() throws IOException {
        Path bin = Files.write(dir.resolve("9-4.bin"), new byte[1]);
        Files.writeString(dir.resolve("9-4.txt"), new FuzzInput("idx", 9, 4, "labels-u8-3", List.of("flip bit 1 of byte 2"),
                new byte[1]).describe(bin) + "outcome: OutOfMemoryError\n");
        List<String> lines = FuzzRunner.mutations(bin);
        assertEquals(List.of("from corpus file: labels-u8-3", "1. flip bit 1 of byte 2"), lines);
    }
}
