package dev.deepnet.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** ONEDNN_MAX_CPU_ISA is read by oneDNN when it starts: each case runs in a fresh JVM. */
class CpuIsaLimitTest {

    private static String runProbe(Map<String, String> env) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), IsaProbe.class.getName()).redirectErrorStream(true);
        pb.environment().remove("ONEDNN_MAX_CPU_ISA");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.lines().reduce((a, b) -> b).orElse("");
    }

    @Test
    void theEnvironmentVariableCapsTheIsa() throws Exception {
        assertEquals("SSE41", runProbe(Map.of("ONEDNN_MAX_CPU_ISA", "SSE41")));
        assertEquals("AVX", runProbe(Map.of("ONEDNN_MAX_CPU_ISA", "AVX")));
    }

    @Test
    void withoutACapTheIsaIsAtLeastWhatWeCappedTo() throws Exception {
        CpuIsa uncapped = CpuIsa.valueOf(runProbe(Map.of()));
        assertTrue(uncapped.ordinal() >= CpuIsa.AVX.ordinal(), "uncapped ISA " + uncapped);
    }

    /** Prints the effective ISA after running one primitive (so JIT code has been generated). */
    public static final class IsaProbe {
        public static void main(String[] args) {
            try (Engine e = Engine.cpu(); Stream s = new Stream(e);
                 MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, 8, 8);
                 PrimitiveDesc pd = PrimitiveDesc.matmul(e, md, md, null, md, null);
                 Primitive p = new Primitive(pd);
                 Memory m = Memory.allocate(md, e); Memory d = Memory.allocate(md, e)) {
                p.execute(s, Map.of(Arg.SRC, m, Arg.WEIGHTS, m, Arg.DST, d));
            }
            System.out.println(Dnnl.effectiveCpuIsa());
        }
    }
}
