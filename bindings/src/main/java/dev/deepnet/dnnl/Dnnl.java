package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import dev.deepnet.dnnl.internal.dnnl_version_t;
import dev.deepnet.nativelib.OneDnnLibrary;
import java.lang.foreign.MemorySegment;

/** Facts about the loaded oneDNN, and the process-wide settings it has. */
public final class Dnnl {
    private Dnnl() {}

    /** oneDNN's version, the commit it was built from, and its CPU threading runtime. */
    public record Version(int major, int minor, int patch, String hash, String cpuRuntime) {
        @Override
        public String toString() {
            return major + "." + minor + "." + patch + " (" + hash + ", " + cpuRuntime + ")";
        }
    }

    /** The version of the loaded library (loads it if needed). */
    public static Version version() {
        MemorySegment v = dnnl_version().reinterpret(dnnl_version_t.LAYOUT.byteSize());
        MemorySegment hash = dnnl_version_t.hash(v);
        int runtime = dnnl_version_t.cpu_runtime(v);
        String cpuRuntime = switch (runtime) {
            case DNNL_RUNTIME_OMP -> "OpenMP";
            case DNNL_RUNTIME_SEQ -> "sequential";
            case DNNL_RUNTIME_TBB -> "TBB";
            case DNNL_RUNTIME_THREADPOOL -> "threadpool";
            default -> "runtime " + runtime;
        };
        return new Version(dnnl_version_t.major(v), dnnl_version_t.minor(v), dnnl_version_t.patch(v),
                hash.equals(MemorySegment.NULL) ? "unknown" : hash.reinterpret(256).getString(0), cpuRuntime);
    }

    /** The instruction set oneDNN generates code for: the CPU's best, capped by ONEDNN_MAX_CPU_ISA. */
    public static CpuIsa effectiveCpuIsa() {
        return CpuIsa.of(dnnl_get_effective_cpu_isa());
    }

    /**
     * Caps the instruction set, like ONEDNN_MAX_CPU_ISA. oneDNN accepts this only before it has
     * generated any code; afterwards it fails with {@link DnnlException.InvalidArguments}.
     */
    public static void setMaxCpuIsa(CpuIsa isa) {
        DnnlException.check(dnnl_set_max_cpu_isa(isa.code()), "dnnl_set_max_cpu_isa", isa.name());
    }

    /**
     * How many oneDNN handles (engines, streams, memory descriptors and memories, primitive
     * descriptors, primitives) this JVM has created so far. Creating one allocates native memory
     * inside oneDNN; a loop that should allocate nothing must leave this unchanged.
     */
    public static long handlesCreated() {
        return NativeHandle.created();
    }

    /** Where the library was loaded from. */
    public static String libraryOrigin() {
        OneDnnLibrary.Loaded loaded = OneDnnLibrary.loaded();
        return loaded.library() + " (" + loaded.origin() + ")";
    }
}
