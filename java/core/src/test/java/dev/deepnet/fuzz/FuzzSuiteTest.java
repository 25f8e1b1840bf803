package dev.deepnet.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every file format deepnet reads has a seeded fuzzer in the suite (issue 12). Each loader gets a
 * fixed number of inputs mutated from its corpus with a fixed seed, in child JVMs with a 512 MB
 * heap; the test fails listing each input that broke the {@link Oracle} — an error, an untyped
 * exception, an empty message, a hang, a crash — grouped by where, each saved as
 * {@code target/fuzz-findings/<format>/<seed>-<index>.bin} with a {@code .txt} saying how it was
 * made. {@code scripts/fuzz} runs the same harness for longer and with other seeds.
 *
 * <p>{@code -Ddeepnet.fuzz.count=N} replaces every count (e.g. 0 inputs to skip, more to dig).
 */
class FuzzSuiteTest {

    /** Fixed, so that every run loads the same inputs: a finding reproduces, and a fix shows. */
    static final long SEED = 12;

    /** Counts that keep the suite's added time under half a minute on two cores; models and IDX bombs cost most. */
    static Stream<Arguments> formats() {
        return Stream.of(arguments("safetensors", 5000), arguments("model", 5000), arguments("idx", 5000),
                arguments("image", 5000), arguments("onnx", 5000));
    }

    @ParameterizedTest(name = "{0}: {1} inputs")
    @MethodSource("formats")
    void everyMutatedInputLoadsOrIsRejectedWithTheDocumentedException(String format, int defaultCount) throws Exception {
        int count = Integer.getInteger("deepnet.fuzz.count", defaultCount);
        FuzzRunner.Settings settings = FuzzRunner.Settings.defaults(findings());
        FuzzRunner.clean(format, SEED, settings);
        FuzzRunner.Report r = FuzzRunner.run(format, SEED, 0, count, 0, settings, null);
        System.out.println("fuzz " + r.summaryLine());

        assertEquals(count, r.inputs(), "inputs run");
        assertEquals(count, r.successes() + r.rejections() + r.findings().size(), "every input has one outcome");
        // A fuzzer whose inputs never pass the loader, or never fail it, is not testing the checks in between.
        assertTrue(count == 0 || r.successes() >= count / 50, () -> "too few inputs loaded: " + r.summaryLine());
        assertTrue(count == 0 || r.rejections() >= count / 10, () -> "too few inputs rejected: " + r.summaryLine());
        assertTrue(r.findings().isEmpty(), () -> r.findings().size() + " of " + count + " " + format + " inputs (seed " + SEED
                + ") broke the oracle; saved in " + settings.findings().resolve(format) + ":\n" + r.describeFindings());
    }

    /** Under surefire the working directory and {@code basedir} are the module's folder. */
    static Path findings() {
        return Path.of(System.getProperty("basedir", "."), "target", "fuzz-findings").toAbsolutePath();
    }
}
