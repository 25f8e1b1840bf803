package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

/**
 * A primitive, created once from its descriptor and executed many times.
 *
 * <p>Execution checks every argument before anything reaches C: each memory is open with a live
 * buffer (on every execution), each has the layout the primitive expects for that role, and no
 * required argument is missing (once per {@link ExecArgs} and primitive, until the arguments
 * change). oneDNN itself would trust a wrong buffer and read or write past it.
 */
public final class Primitive extends NativeHandle {

    private final Engine engine;
    private final String implementation;
    private final String what;
    /** The arguments this primitive takes: id to the descriptor it expects (views of its own descriptor). */
    private final Map<Integer, MemoryDesc> expected;
    /**
     * How many arguments an execution passes: oneDNN's own count of inputs and outputs. Usually the
     * size of {@link #expected}, but a descriptor may describe a memory it does not read (batch
     * normalisation's backward describes its shift, and refuses it: "bad number of inputs").
     */
    private final int required;

    public Primitive(PrimitiveDesc pd) {
        super("Primitive", create(pd));
        this.engine = pd.engine();
        this.what = pd.description();
        try {
            this.implementation = pd.implementation();
            this.expected = expectedArgs();
            this.required = requiredArgs();
        } catch (RuntimeException | Error e) {
            close(); // destroys the C primitive and releases the engine
            throw e;
        }
    }

    private static MemorySegment create(PrimitiveDesc pd) {
        MemorySegment e = pd.engine().retain();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_primitive_create(out, pd.handle()), "dnnl_primitive_create", pd.description());
            return out.get(C_POINTER, 0);
        } catch (RuntimeException | Error ex) {
            pd.engine().release();
            throw ex;
        }
    }

    /** Asks the primitive's own descriptor which arguments it takes (every named id below MULTIPLE_SRC, and its inputs). */
    private Map<Integer, MemoryDesc> expectedArgs() {
        MemorySegment pd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_primitive_get_primitive_desc(handle(), out), "dnnl_primitive_get_primitive_desc");
            pd = out.get(C_POINTER, 0);
        }
        Map<Integer, MemoryDesc> args = new TreeMap<>();
        // Only the ids oneDNN names (about forty), not every number below MULTIPLE_SRC: one query
        // each, and 1,023 of them made creating a primitive cost milliseconds where oneDNN's cache hit costs microseconds.
        for (int id : Arg.singleIds()) {
            addIfUsed(args, pd, id);
        }
        int inputs = dnnl_primitive_desc_query_s32(pd, dnnl_query_num_of_inputs_s32, 0);
        for (int i = 0; i < inputs; i++) {
            addIfUsed(args, pd, DNNL_ARG_MULTIPLE_SRC + i);
        }
        return args;
    }

    private int requiredArgs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            DnnlException.check(dnnl_primitive_get_primitive_desc(handle(), out), "dnnl_primitive_get_primitive_desc");
            MemorySegment pd = out.get(C_POINTER, 0);
            return dnnl_primitive_desc_query_s32(pd, dnnl_query_num_of_inputs_s32, 0)
                    + dnnl_primitive_desc_query_s32(pd, dnnl_query_num_of_outputs_s32, 0);
        }
    }

    private void addIfUsed(Map<Integer, MemoryDesc> args, MemorySegment pd, int id) {
        MemorySegment md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, id);
        if (!md.equals(MemorySegment.NULL)) {
            MemoryDesc desc = MemoryDesc.borrowed(md, this);
            if (!desc.isZero()) {
                args.put(id, desc);
            }
        }
    }

    /** Whether this primitive takes argument {@code arg} ({@link Arg}). */
    public boolean takes(int arg) {
        return expected.containsKey(arg);
    }

    /** The argument ids this primitive requires, with the layout expected for each. */
    public Map<Integer, MemoryDesc> arguments() {
        return Map.copyOf(expected);
    }

    /**
     * Executes on {@code stream} and waits for the result. The primitive, the stream and every
     * argument memory are held for the call: closing any of them from another thread meanwhile
     * throws there, and frees nothing oneDNN is using.
     */
    public void execute(Stream stream, ExecArgs args) {
        MemorySegment h = holdHandle();
        try {
            MemorySegment s = stream.holdHandle();
            try {
                int held = 0;
                try {
                    for (; held < args.count(); held++) {
                        args.memory(held).acquireBuffer();
                    }
                    // Layouts, engines and the set of arguments cannot change without ExecArgs.set, which
                    // clears the mark: check them once, not on every execution (a downcall per argument).
                    if (!args.checkedFor(this)) {
                        check(args);
                        args.markChecked(this);
                    }
                    DnnlException.check(dnnl_primitive_execute(h, s, args.count(), args.array()), "dnnl_primitive_execute", what);
                    DnnlException.check(dnnl_stream_wait(s), "dnnl_stream_wait");
                } finally {
                    for (int i = 0; i < held; i++) {
                        args.memory(i).releaseBuffer();
                    }
                }
            } finally {
                stream.releaseHandle();
            }
        } finally {
            releaseHandle();
        }
    }

    /** Executes with arguments given as a map (allocates; for setup and tests rather than hot loops). */
    public void execute(Stream stream, Map<Integer, Memory> args) {
        try (ExecArgs a = new ExecArgs(Math.max(1, args.size()))) {
            new TreeMap<>(args).forEach(a::set);
            execute(stream, a);
        }
    }

    private void check(ExecArgs args) {
        int matched = 0;
        for (int i = 0; i < args.count(); i++) {
            int id = args.id(i);
            Memory m = args.memory(i);
            MemoryDesc want = expected.get(id);
            if (want == null) {
                throw new IllegalArgumentException(implementation + " takes no argument '" + Arg.name(id) + "'; it takes "
                        + names(expected) + " (" + what + ")");
            }
            if (!want.sameLayout(m.desc())) {
                throw new IllegalArgumentException("argument '" + Arg.name(id) + "' of " + implementation + " must be "
                        + want + " but is " + m.desc());
            }
            if (m.engine() != engine) {
                throw new IllegalArgumentException("argument '" + Arg.name(id) + "' lives on another engine");
            }
            matched++;
        }
        if (matched > required) {
            throw new IllegalArgumentException(implementation + " takes " + required + " arguments, not " + matched + " (" + what + ")");
        }
        if (matched < required) {
            StringBuilder missing = new StringBuilder();
            for (int id : expected.keySet()) {
                if (args.get(id) == null) {
                    missing.append(missing.isEmpty() ? "" : ", ").append(Arg.name(id)).append(" (").append(expected.get(id)).append(')');
                }
            }
            throw new IllegalArgumentException(implementation + " is missing argument(s) " + missing + " (" + what + ")");
        }
    }

    private static String names(Map<Integer, MemoryDesc> args) {
        StringBuilder sb = new StringBuilder();
        for (int id : args.keySet()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(Arg.name(id));
        }
        return sb.toString();
    }

    /** The implementation oneDNN chose. */
    public String implementation() {
        return implementation;
    }

    @Override
    boolean ownerOpen() {
        return engine.isOpen();
    }

    @Override
    void destroy(MemorySegment h) {
        dnnl_primitive_destroy(h);
        engine.release();
    }

    @Override
    public String toString() {
        return "Primitive[" + implementation + (isOpen() ? "" : ", closed") + "]";
    }
}
