package dev.deepnet.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BackendTest {

    @Test
    void oneDnnByDefaultReferenceWhenForcedOrWhenOneDnnCannotLoad() {
        assertEquals(Backend.ONEDNN, Backend.choose(null, true));
        assertEquals(Backend.REFERENCE, Backend.choose(null, false));
        assertEquals(Backend.REFERENCE, Backend.choose(setting("reference"), true));
        assertEquals(Backend.ONEDNN, Backend.choose(setting("onednn"), true));
    }

    @Test
    void forcingAnUnavailableOrUnknownBackendSaysWhy() {
        Backend.SelectionException e = assertThrows(Backend.SelectionException.class, () -> Backend.choose(setting("onednn"), false));
        assertTrue(e.getMessage().startsWith("-Ddeepnet.backend=onednn, but oneDNN cannot load"), e.getMessage());
        Backend.SelectionException u = assertThrows(Backend.SelectionException.class, () -> Backend.choose(setting("cuda"), true));
        assertTrue(u.getMessage().startsWith("-Ddeepnet.backend=cuda names no backend: use 'onednn' or 'reference'"), u.getMessage());
    }

    /** A bad setting fails every call that needs the backend with the same message, never with an initializer error. */
    @Test
    void aBadSettingFailsEveryCallTheSameWay() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Ddeepnet.backend=nonsense", "-cp",
                System.getProperty("java.class.path"), SelectTwice.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        String expected = "SelectionException: -Ddeepnet.backend=nonsense names no backend: use 'onednn' or 'reference'";
        assertEquals(2, out.lines().filter(l -> l.contains(expected)).count(), out);
    }

    /** Run in a child JVM: asks for the backend twice and prints what each call threw. */
    static final class SelectTwice {
        public static void main(String[] args) {
            for (int i = 0; i < 2; i++) {
                try {
                    System.out.println(Backend.selected());
                } catch (RuntimeException e) {
                    System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
        }
    }

    private static Backend.Setting setting(String value) {
        return new Backend.Setting("-Ddeepnet.backend=" + value, value);
    }

    @Test
    void thisJvmRunsOnOneDnnAndEachBackendMakesItsOps() {
        assertEquals(Backend.ONEDNN, Backend.selected());
        try (Ops ops = Backend.newDefaultOps(); Ops ref = Backend.REFERENCE.newOps()) {
            assertEquals("onednn", ops.name());
            assertEquals("reference", ref.name());
        }
    }
}
