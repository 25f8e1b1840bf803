package dev.deepnet.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class LifetimeTest {

    @Test
    void endFailsWhileHeldAndLeavesTheLifetimeUsable() {
        Lifetime l = new Lifetime();
        l.acquire("x");
        l.acquire("x");
        assertEquals(2, l.users());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.end("tensor (3)"));
        assertTrue(e.getMessage().contains("tensor (3) is in use by 2 call(s)"), e.getMessage());
        assertTrue(l.isAlive());
        l.release();
        l.release();
        assertTrue(l.end("x"));
        assertFalse(l.isAlive());
        assertFalse(l.end("x"), "a second end does nothing");
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> l.acquire("tensor (3)"));
        assertEquals("tensor (3) is closed", closed.getMessage());
    }

    @Test
    void releasingMoreThanAcquiredIsAnError() {
        Lifetime l = new Lifetime();
        assertThrows(IllegalStateException.class, l::release);
        assertTrue(l.isAlive(), "a refused release leaves the lifetime as it was");
        assertEquals(0, l.users());
        assertTrue(l.end("x"));
        assertThrows(IllegalStateException.class, l::release, "nor does it corrupt an ended one");
        assertFalse(l.isAlive());
    }

    @Test
    void endWhenUnusedWaitsForTheUsersAndRefusesNewOnes() throws InterruptedException {
        Lifetime l = new Lifetime();
        l.acquire("x");
        CountDownLatch ending = new CountDownLatch(1);
        AtomicBoolean ended = new AtomicBoolean();
        Thread closer = new Thread(() -> {
            ending.countDown();
            ended.set(l.endWhenUnused());
        });
        closer.start();
        assertTrue(ending.await(10, TimeUnit.SECONDS));
        while (l.isAlive()) { // the closer marks it ending before it waits
            Thread.onSpinWait();
        }
        assertThrows(IllegalStateException.class, () -> l.acquire("x"), "no new user while ending");
        Thread.sleep(20);
        assertTrue(closer.isAlive(), "still waiting for the user");
        assertEquals(1, l.users());
        l.release();
        closer.join(10_000);
        assertFalse(closer.isAlive());
        assertTrue(ended.get());
        assertEquals(0, l.users());
        assertFalse(l.endWhenUnused(), "already ended");
        assertFalse(l.end("x"));
    }
}
