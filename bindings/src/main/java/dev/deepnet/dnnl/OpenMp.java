package dev.deepnet.dnnl;

import dev.deepnet.nativelib.OneDnnLibrary;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The threads oneDNN computes with. The bundled oneDNN runs its CPU primitives on OpenMP
 * (libgomp), which takes the team size from the calling thread's own setting
 * ({@code omp_set_num_threads}): so each Java thread can run oneDNN with its own thread count,
 * which is how deepnet gives a plan or a Predictor worker its share of the cores. oneDNN reads
 * the setting both when it creates a primitive (some implementations split their work then) and
 * when it executes one, so set it before both.
 *
 * <p>These are not oneDNN functions and not in its headers, hence written by hand rather than
 * generated; they are looked up through the loaded oneDNN library, whose dependencies include
 * libgomp. A oneDNN built on another runtime (TBB, sequential) has none of them:
 * {@link #isAvailable()} is false and setting a thread count is refused.
 */
public final class OpenMp {
    private OpenMp() {}

    private static final class Holder {
        static final MethodHandle SET_NUM_THREADS = find("omp_set_num_threads", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        static final MethodHandle GET_MAX_THREADS = find("omp_get_max_threads", FunctionDescriptor.of(ValueLayout.JAVA_INT));
        static final MethodHandle GET_NUM_PROCS = find("omp_get_num_procs", FunctionDescriptor.of(ValueLayout.JAVA_INT));

        private static MethodHandle find(String name, FunctionDescriptor descriptor) {
            if (!OneDnnLibrary.isAvailable()) {
                return null;
            }
            Optional<MemorySegment> symbol = OneDnnLibrary.symbols().find(name);
            // omp_* are leaf calls that return at once: the critical option skips the thread-state transition
            return symbol.map(s -> Linker.nativeLinker().downcallHandle(s, descriptor, Linker.Option.critical(false))).orElse(null);
        }
    }

    /** Whether the loaded oneDNN runs on OpenMP, so thread counts can be set per thread. */
    public static boolean isAvailable() {
        return Holder.SET_NUM_THREADS != null && Holder.GET_MAX_THREADS != null && Holder.GET_NUM_PROCS != null;
    }

    /** Sets how many threads oneDNN calls made by the current thread may use ({@code omp_set_num_threads}). */
    public static void setThreadsForThisThread(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a thread count must be >= 1, got " + threads);
        }
        try {
            required(Holder.SET_NUM_THREADS, "omp_set_num_threads").invokeExact(threads);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** How many threads the current thread's next oneDNN call may use ({@code omp_get_max_threads}). */
    public static int threadsForThisThread() {
        try {
            return (int) required(Holder.GET_MAX_THREADS, "omp_get_max_threads").invokeExact();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The processors OpenMP may use ({@code omp_get_num_procs}: the process's CPU affinity). */
    public static int processors() {
        try {
            return (int) required(Holder.GET_NUM_PROCS, "omp_get_num_procs").invokeExact();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static MethodHandle required(MethodHandle h, String name) {
        if (h == null) {
            OneDnnLibrary.Loaded loaded = OneDnnLibrary.loaded(); // throws when oneDNN did not load, naming what was tried
            throw new UnsupportedOperationException("oneDNN at " + loaded.library() + " does not run on OpenMP (" + name
                    + " not found; its CPU runtime is " + Dnnl.version().cpuRuntime() + "), so deepnet cannot give it a thread count");
        }
        return h;
    }
}
