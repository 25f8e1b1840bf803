package dev.deepnet.nativelib;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How long native memory or a native handle may be used, and who is using it right now.
 *
 * <p>The rule it enforces: <em>a native call never outlives its memory</em>. Code that hands an
 * object to C {@linkplain #acquire acquires} its lifetime first and {@linkplain #release releases}
 * it when the call has returned; ending the lifetime while a call holds it either fails with
 * {@link IllegalStateException} before anything is freed ({@link #end}) or waits for the calls to
 * return ({@link #endWhenUnused}). So closing a tensor, a plan or a primitive from another thread
 * can never free memory that oneDNN is reading or writing.
 *
 * <p>The FFM API gives the same guarantee only to segments passed directly as downcall arguments;
 * oneDNN reaches tensor memory through its own memory objects, so deepnet keeps the count itself.
 * One uncontended compare-and-set per acquire and per release: a few nanoseconds.
 */
public final class Lifetime {

    /** Set while the lifetime is over or ending: no new user may acquire it. */
    private static final int ENDING = Integer.MIN_VALUE;

    /** Number of current users, with {@link #ENDING} set once the lifetime is over or ending. */
    private final AtomicInteger state = new AtomicInteger();

    /**
     * Registers a user of the object; throws {@link IllegalStateException} naming {@code what}
     * when its lifetime is over (or ending). Pair every successful call with {@link #release}.
     */
    public void acquire(Object what) {
        for (;;) {
            int s = state.get();
            if (s < 0) {
                throw new IllegalStateException(what + " is closed");
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    /** A user registered by {@link #acquire} is done. */
    public void release() {
        for (;;) {
            int s = state.get();
            if ((s & Integer.MAX_VALUE) == 0) { // no user (open or ending): refuse, leaving the state as it was
                throw new IllegalStateException("released more often than acquired");
            }
            if (state.compareAndSet(s, s - 1)) {
                if (s - 1 == ENDING) {
                    synchronized (this) {
                        notifyAll(); // an endWhenUnused may be waiting for the last user
                    }
                }
                return;
            }
        }
    }

    /** Whether the object may still be used. */
    public boolean isAlive() {
        return state.get() >= 0;
    }

    /** How many users hold it now. */
    public int users() {
        return state.get() & Integer.MAX_VALUE;
    }

    /**
     * Ends the lifetime unless someone uses the object now. Returns true when this call ended it
     * (the caller then frees the object), false when it had already ended; throws
     * {@link IllegalStateException} naming {@code what} when a user holds it, leaving it open.
     */
    public boolean end(Object what) {
        int s = state.compareAndExchange(0, ENDING);
        if (s == 0) {
            return true;
        }
        if (s < 0) {
            return false;
        }
        throw new IllegalStateException(what + " is in use by " + s + " call(s) on other threads; close it after they return");
    }

    /**
     * Ends the lifetime once its current users are done, refusing new ones from now on. Returns
     * true when this call ended it, false when it had already ended or another call is ending it.
     */
    public boolean endWhenUnused() {
        for (;;) {
            int s = state.get();
            if (s < 0) {
                return false;
            }
            if (state.compareAndSet(s, s | ENDING)) {
                break;
            }
        }
        boolean interrupted = false;
        synchronized (this) {
            while (state.get() != ENDING) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true; // finish ending: callers rely on the lifetime being over when this returns
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    @Override
    public String toString() {
        int s = state.get();
        return s >= 0 ? "Lifetime[" + s + " users]" : s == ENDING ? "Lifetime[ended]" : "Lifetime[ending, " + users() + " users]";
    }
}
