package dev.deepnet.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The wait policy libgomp sees is deepnet's default, the user's property, or the user's own environment. */
class OpenMpEnvironmentTest {

    /** Runs the probe in a child JVM with {@code env} added (null values removed) and {@code properties}; returns its output. */
    private static String probe(Map<String, String> env, String... properties) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        String cache = System.getProperty(OneDnnLibrary.CACHE_PROPERTY);
        if (cache != null) {
            command.add("-D" + OneDnnLibrary.CACHE_PROPERTY + "=" + cache);
        }
        command.addAll(List.of(properties));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("OMP_WAIT_POLICY");
        builder.environment().remove("GOMP_SPINCOUNT");
        builder.environment().remove(OpenMpEnvironment.ENV);
        builder.environment().remove(OneDnnLibrary.PATH_ENV);
        builder.environment().putAll(env);
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        return "exit " + p.exitValue() + ": " + out.strip();
    }

    @Test
    void deepnetLetsIdleOpenMpThreadsSpinOnlyBrieflyByDefault() throws Exception {
        String out = probe(Map.of());
        assertTrue(out.startsWith("exit 0: OMP_WAIT_POLICY=(unset) GOMP_SPINCOUNT=1000"), out);
    }

    @Test
    void thePropertyChoosesAnotherPolicyOrLibgompsOwn() throws Exception {
        assertTrue(probe(Map.of(), "-D" + OpenMpEnvironment.PROPERTY + "=active").startsWith("exit 0: OMP_WAIT_POLICY=active"));
        String passive = probe(Map.of(), "-D" + OpenMpEnvironment.PROPERTY + "=passive");
        assertTrue(passive.startsWith("exit 0: OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=(unset)"), passive);
        String own = probe(Map.of(), "-D" + OpenMpEnvironment.PROPERTY + "=libgomp");
        assertTrue(own.startsWith("exit 0: OMP_WAIT_POLICY=(unset) GOMP_SPINCOUNT=(unset)"), own);
        String bad = probe(Map.of(), "-D" + OpenMpEnvironment.PROPERTY + "=sometimes");
        assertTrue(bad.contains("deepnet.omp.waitPolicy must be brief, passive, active or libgomp, not 'sometimes'"), bad);
    }

    @Test
    void theUsersEnvironmentWins() throws Exception {
        String out = probe(Map.of("OMP_WAIT_POLICY", "ACTIVE"));
        assertTrue(out.startsWith("exit 0: OMP_WAIT_POLICY=ACTIVE"), out);
        assertTrue(out.contains("(from the environment)"), out);
        String spin = probe(Map.of("GOMP_SPINCOUNT", "50"));
        assertTrue(spin.startsWith("exit 0: OMP_WAIT_POLICY=(unset) GOMP_SPINCOUNT=50"), spin);
    }

    /** Loads oneDNN (and so libgomp), then prints the variable as native code sees it, and what deepnet did. */
    public static final class Probe {
        public static void main(String[] args) throws Throwable {
            OneDnnLibrary.loaded();
            Linker linker = Linker.nativeLinker();
            MethodHandle getenv = linker.downcallHandle(linker.defaultLookup().find("getenv").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            try (Arena arena = Arena.ofConfined()) {
                StringBuilder line = new StringBuilder();
                for (String name : new String[] {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
                    MemorySegment v = (MemorySegment) getenv.invokeExact(arena.allocateFrom(name));
                    line.append(name).append('=').append(v.equals(MemorySegment.NULL) ? "(unset)" : v.reinterpret(64).getString(0)).append(' ');
                }
                System.out.println(line + "/ " + OpenMpEnvironment.applied());
            }
        }
    }
}
