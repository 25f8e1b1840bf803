package dev.deepnet.dnnl;

import dev.deepnet.dnnl.internal.dnnl_exec_arg_t;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The arguments of a primitive execution, kept in native memory so that executing a primitive
 * over and over allocates nothing: build once, {@link #set} to re-point, execute many times.
 */
public final class ExecArgs implements AutoCloseable {

    private final Arena arena = Arena.ofShared();
    private final MemorySegment array; // dnnl_exec_arg_t[capacity]
    private final int[] ids;
    private final Memory[] memories;
    private int count;
    /** The primitive these arguments were last checked against; cleared by every {@link #set}. */
    private Primitive checkedFor;

    public ExecArgs(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        array = dnnl_exec_arg_t.allocateArray(capacity, arena);
        ids = new int[capacity];
        memories = new Memory[capacity];
    }

    /** Sets argument {@code arg} ({@link Arg}) to {@code memory}, replacing any earlier one. */
    public ExecArgs set(int arg, Memory memory) {
        MemorySegment handle = memory.handle(); // throws when closed, before anything changes
        int i = indexOf(arg);
        if (i >= 0 && memories[i] == memory) {
            return this; // unchanged: the checks already made still hold
        }
        if (i < 0) {
            if (count == ids.length) {
                throw new IllegalStateException("ExecArgs is full (" + ids.length + " arguments); cannot add " + Arg.name(arg));
            }
            i = count++;
            ids[i] = arg;
        }
        memories[i] = memory;
        checkedFor = null;
        MemorySegment slot = dnnl_exec_arg_t.asSlice(array, i);
        dnnl_exec_arg_t.arg(slot, arg);
        dnnl_exec_arg_t.memory(slot, handle);
        return this;
    }

    private int indexOf(int arg) {
        for (int i = 0; i < count; i++) {
            if (ids[i] == arg) {
                return i;
            }
        }
        return -1;
    }

    /** The memory for {@code arg}, or null. */
    public Memory get(int arg) {
        int i = indexOf(arg);
        return i < 0 ? null : memories[i];
    }

    /** Whether these arguments, unchanged since, passed {@code p}'s checks (a memory's layout never changes). */
    boolean checkedFor(Primitive p) {
        return checkedFor == p;
    }

    void markChecked(Primitive p) {
        checkedFor = p;
    }

    int count() {
        return count;
    }

    int id(int i) {
        return ids[i];
    }

    Memory memory(int i) {
        return memories[i];
    }

    MemorySegment array() {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("ExecArgs is closed");
        }
        return array;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        String[] parts = new String[count];
        for (int i = 0; i < count; i++) {
            parts[i] = Arg.name(ids[i]) + "=" + memories[i];
        }
        return "ExecArgs" + Arrays.toString(parts);
    }
}
