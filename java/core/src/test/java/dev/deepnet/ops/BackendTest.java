package dev.deepnet.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BackendTest {

    @Test
    void oneDnnByDefaultReferenceWhenForcedOrWhenOneDnnCannotLoad() {
        assertEquals(Backend.ONEDNN, Backend.choose(null, true));
        assertEquals(Backend.REFERENCE, Backend.choose(null, false));
        assertEquals(Backend.REFERENCE, Backend.choose("reference", true));
        assertEquals(Backend.ONEDNN, Backend.choose("onednn", true));
    }

    @Test
    void forcingAnUnavailableOrUnknownBackendSaysWhy() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backend.choose("onednn", false));
        assertTrue(e.getMessage().contains("oneDNN cannot load"), e.getMessage());
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> Backend.choose("cuda", true));
        assertTrue(u.getMessage().contains("'onednn' or 'reference'"), u.getMessage());
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
