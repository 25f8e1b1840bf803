package dev.deepnet.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * OpenMP's wait policy, set before libgomp loads. libgomp reads {@code OMP_WAIT_POLICY} and
 * {@code GOMP_SPINCOUNT} once, when it is loaded, and by default lets the threads of a finished
 * parallel region spin for up to 300,000 rounds before they sleep. One JVM alone gains from some
 * spinning (the next primitive finds its team awake, instead of paying a futex wake-up of about
 * 50 µs); beside another busy process on the same cores the spinning threads take the cores the
 * other needs, and both slow down many times over. So deepnet sets the policy itself, through the
 * C library's {@code setenv}, before it loads libgomp: a JVM cannot otherwise change the
 * environment its native libraries read.
 *
 * <p>Measured on 2 cores (bench/README.md, "OpenMP wait policy"), LeNet-style training steps, one
 * JVM alone / two JVMs at once: libgomp's default 12.6 / 152-183 ms; {@code GOMP_SPINCOUNT=1000}
 * 13.3 / 32.4 ms; passive 14.5 / 28.5 ms, but a tiny 2-thread primitive then costs 48 µs instead of
 * 0.8 µs. The default, {@code brief}, is the spin count of 1000.
 *
 * <p>The user's choice wins: when {@code OMP_WAIT_POLICY} or {@code GOMP_SPINCOUNT} is already in
 * the environment, nothing is set. Otherwise the system property {@value #PROPERTY} (or the
 * environment variable {@value #ENV}) picks {@code brief} (the default: spin 1000 rounds, then
 * sleep), {@code passive} (idle threads sleep at once), {@code active} (they spin) or
 * {@code libgomp} (leave libgomp's own default).
 */
public final class OpenMpEnvironment {
    private OpenMpEnvironment() {}

    /** System property choosing the wait policy: brief (default), passive, active or libgomp. */
    public static final String PROPERTY = "deepnet.omp.waitPolicy";
    /** Environment variable read when {@link #PROPERTY} is unset. */
    public static final String ENV = "DEEPNET_OMP_WAIT_POLICY";
    /** The default: measured in bench/README.md ("OpenMP wait policy"). */
    public static final String DEFAULT = "brief";
    /** The spin count of {@code brief}: about a microsecond of spinning on these cores. */
    static final String BRIEF_SPIN_COUNT = "1000";

    private static volatile String applied = "not yet";

    /** What {@link #apply} did, for reports: e.g. "GOMP_SPINCOUNT=1000 (set by deepnet; ...)". */
    public static String applied() {
        return applied;
    }

    /** Sets OMP_WAIT_POLICY for libgomp unless the user set it; call before libgomp loads. */
    static void apply() {
        String user = System.getenv("OMP_WAIT_POLICY");
        String spin = System.getenv("GOMP_SPINCOUNT");
        if (user != null || spin != null) {
            applied = (user != null ? "OMP_WAIT_POLICY=" + user : "GOMP_SPINCOUNT=" + spin) + " (from the environment)";
            return;
        }
        String choice = System.getProperty(PROPERTY);
        if (choice == null || choice.isBlank()) {
            choice = System.getenv(ENV);
        }
        choice = choice == null || choice.isBlank() ? DEFAULT : choice.trim().toLowerCase(Locale.ROOT);
        String change = " (set by deepnet; -D" + PROPERTY + ", OMP_WAIT_POLICY or GOMP_SPINCOUNT to change)";
        switch (choice) {
            case "libgomp" -> applied = "libgomp's default (-D" + PROPERTY + "=libgomp)";
            case "brief" -> {
                setenv("GOMP_SPINCOUNT", BRIEF_SPIN_COUNT);
                applied = "GOMP_SPINCOUNT=" + BRIEF_SPIN_COUNT + change;
            }
            case "passive", "active" -> {
                setenv("OMP_WAIT_POLICY", choice);
                applied = "OMP_WAIT_POLICY=" + choice + change;
            }
            default -> throw new IllegalArgumentException(PROPERTY + " must be brief, passive, active or libgomp, not '" + choice + "'");
        }
    }

    private static void setenv(String name, String value) {
        Linker linker = Linker.nativeLinker();
        MethodHandle setenv = linker.defaultLookup().find("setenv")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_INT)))
                .orElseThrow(() -> new IllegalStateException("the C library has no setenv"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(name);
            MemorySegment v = arena.allocateFrom(value);
            int rc = (int) setenv.invokeExact(n, v, 0); // 0: never overwrite what is there
            if (rc != 0) {
                throw new IllegalStateException("setenv(" + name + ", " + value + ") failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
