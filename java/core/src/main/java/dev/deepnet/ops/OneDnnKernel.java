package dev.deepnet.ops;

import dev.deepnet.dnnl.DataType;
import dev.deepnet.dnnl.Engine;
import dev.deepnet.dnnl.ExecArgs;
import dev.deepnet.dnnl.FormatTag;
import dev.deepnet.dnnl.Memory;
import dev.deepnet.dnnl.MemoryDesc;
import dev.deepnet.dnnl.Primitive;
import dev.deepnet.dnnl.PrimitiveDesc;
import dev.deepnet.dnnl.Stream;
import dev.deepnet.dnnl.Arg;
import dev.deepnet.tensor.Layout;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * One oneDNN primitive, created once, ready to run on plain row-major tensors.
 *
 * <p>Each tensor argument is a {@link Port}: a memory object over the caller's tensor (re-pointed
 * at each call, no copy) and, when the primitive chose another layout through
 * {@code format_tag any}, an internal memory in that layout with a cached reorder into it (for
 * inputs) or out of it (for outputs). Reorders thus happen only where formats differ, and running
 * the kernel again creates nothing.
 */
final class OneDnnKernel implements AutoCloseable {

    /**
     * A tensor argument of the kernel, in the order {@link #run} receives tensors. The tensor's
     * memory is row-major; or has the given element strides when {@code strides} is not null; or
     * is in a backend {@code layout} when that is not null.
     */
    record PortSpec(int arg, Shape shape, boolean output, long[] strides, Layout layout) {
        PortSpec(int arg, Shape shape, boolean output) {
            this(arg, shape, output, null, null);
        }

        /** A port for a tensor of this shape in its layout (null: row-major). */
        static PortSpec of(int arg, Tensor t, boolean output) {
            return new PortSpec(arg, t.shape(), output, null, t.layout());
        }
    }

    private static final class Port {
        final PortSpec spec;
        final MemoryDesc plainDesc; // (shape) as the caller's tensor lays it out: row-major, strided or its backend layout
        final long bytes; // what the caller's tensor must hold
        Memory user; // over the caller's tensor; made at the first run
        final Memory internal; // in the primitive's layout, or null when that is the plain one
        Primitive reorder;
        ExecArgs reorderArgs;

        Port(PortSpec spec, MemoryDesc plainDesc, Memory internal) {
            this.spec = spec;
            this.plainDesc = plainDesc;
            this.bytes = plainDesc.sizeInBytes();
            this.internal = internal;
        }
    }

    private final Engine engine;
    private final PrimitiveDesc pd;
    private final Primitive primitive;
    private final ExecArgs args;
    private final Port[] ports;
    private long lastRun;
    private final boolean isReorder; // the primitive itself is a reorder (a layout conversion)
    private long reordersRun; // conversions of activations and gradients executed: port reorders, and runs of a reorder primitive
    private long weightReordersRun; // conversions of weights, biases and their gradients

    /** Takes ownership of {@code pd}. */
    OneDnnKernel(Engine engine, PrimitiveDesc pd, List<PortSpec> specs) {
        this(engine, pd, specs, false);
    }

    /** Takes ownership of {@code pd}; {@code isReorder} when the primitive is a reorder (counted as one). */
    OneDnnKernel(Engine engine, PrimitiveDesc pd, List<PortSpec> specs, boolean isReorder) {
        this.engine = engine;
        this.isReorder = isReorder;
        this.pd = pd;
        List<Port> built = new ArrayList<>();
        Primitive created = null;
        try {
            created = new Primitive(pd);
            for (PortSpec spec : specs) {
                MemoryDesc plain = spec.layout() != null ? MemoryDesc.withTag(DataType.F32, spec.layout().tag(), spec.shape().dims())
                        : spec.strides() == null ? plainDesc(spec.shape())
                        : MemoryDesc.withStrides(DataType.F32, spec.shape().dims(), spec.strides());
                try {
                    MemoryDesc wanted = pd.argDesc(spec.arg());
                    if (wanted == null) {
                        throw new IllegalStateException(pd.implementation() + " takes no argument " + Arg.name(spec.arg()));
                    }
                    Memory internal = wanted.sameLayout(plain) ? null : Memory.allocate(wanted, engine);
                    built.add(new Port(spec, plain, internal));
                } catch (RuntimeException | Error e) {
                    plain.close();
                    throw e;
                }
            }
            this.ports = built.toArray(new Port[0]);
            this.args = new ExecArgs(specs.size() + 2);
        } catch (RuntimeException | Error e) {
            for (Port p : built) {
                closePort(p);
            }
            if (created != null) {
                created.close();
            }
            pd.close();
            throw e;
        }
        this.primitive = created;
    }

    /** Row-major f32; oneDNN's format tags name plain layouts up to 5 dimensions, strides describe the rest. */
    static MemoryDesc plainDesc(Shape shape) {
        return shape.rank() <= 5 ? MemoryDesc.of(DataType.F32, FormatTag.plain(shape.rank()), shape.dims())
                : MemoryDesc.withStrides(DataType.F32, shape.dims(), shape.strides());
    }

    PrimitiveDesc descriptor() {
        return pd;
    }

    /** When this kernel last ran (System.nanoTime), for evicting the least recently run; 0 before its first run. */
    long lastRun() {
        return lastRun;
    }

    /**
     * Conversions of activations and gradients this kernel has executed: reorders into or out of
     * its source and destination ports, or its own runs when it is a reorder.
     */
    long reordersRun() {
        return reordersRun;
    }

    /** Conversions of weights, biases and their gradients this kernel has executed. */
    long weightReordersRun() {
        return weightReordersRun;
    }

    private void countReorder(Port p) {
        switch (p.spec.arg()) {
            case Arg.WEIGHTS, Arg.DIFF_WEIGHTS, Arg.BIAS, Arg.DIFF_BIAS -> weightReordersRun++;
            default -> reordersRun++;
        }
    }

    /**
     * Runs on {@code tensors} (one per port, in port order); {@code extraArg}/{@code extra} add one
     * memory that is not a tensor (a workspace), or pass 0/null.
     */
    void run(Stream stream, int extraArg, Memory extra, Tensor... tensors) {
        lastRun = System.nanoTime();
        for (int i = 0; i < ports.length; i++) {
            Port p = ports[i];
            Tensor t = tensors[i];
            if (t.segment().byteSize() < p.bytes) { // a layout that claims less memory than oneDNN's descriptor needs
                throw new IllegalArgumentException("tensor " + t + " holds " + t.segment().byteSize() + " bytes; "
                        + Arg.name(p.spec.arg()) + " in its layout needs " + p.bytes);
            }
            if (p.user == null) {
                connect(p, t);
            } else {
                p.user.setData(t.segment());
            }
        }
        // A forward implementation may keep a workspace that the backward one oneDNN picked does
        // not read (LRN: jit forward, reference backward): pass it only where it is taken.
        if (extra != null && primitive.takes(extraArg)) {
            args.set(extraArg, extra);
        }
        for (Port p : ports) {
            if (!p.spec.output() && p.reorder != null) {
                p.reorder.execute(stream, p.reorderArgs);
                countReorder(p);
            }
        }
        primitive.execute(stream, args);
        if (isReorder) {
            reordersRun++;
        }
        for (Port p : ports) {
            if (p.spec.output() && p.reorder != null) {
                p.reorder.execute(stream, p.reorderArgs);
                countReorder(p);
            }
        }
    }

    /** First run of a port: wraps the tensor and, where layouts differ, builds the reorder; all or nothing. */
    private void connect(Port p, Tensor t) {
        Memory user = Memory.wrap(p.plainDesc, engine, t.segment());
        Primitive reorder = null;
        ExecArgs reorderArgs = null;
        try {
            if (p.internal != null) {
                MemoryDesc from = p.spec.output() ? p.internal.desc() : p.plainDesc;
                MemoryDesc to = p.spec.output() ? p.plainDesc : p.internal.desc();
                try (PrimitiveDesc rpd = PrimitiveDesc.reorder(engine, from, to, null)) {
                    reorder = new Primitive(rpd);
                }
                reorderArgs = new ExecArgs(2);
                reorderArgs.set(Arg.FROM, p.spec.output() ? p.internal : user).set(Arg.TO, p.spec.output() ? user : p.internal);
            }
            args.set(p.spec.arg(), p.internal != null ? p.internal : user);
        } catch (RuntimeException | Error e) {
            if (reorderArgs != null) {
                reorderArgs.close();
            }
            if (reorder != null) {
                reorder.close();
            }
            user.close();
            throw e;
        }
        p.user = user;
        p.reorder = reorder;
        p.reorderArgs = reorderArgs;
    }

    String implementation() {
        return primitive.implementation();
    }

    private static void closePort(Port p) {
        if (p.reorderArgs != null) {
            p.reorderArgs.close();
        }
        if (p.reorder != null) {
            p.reorder.close();
        }
        if (p.user != null) {
            p.user.close();
        }
        if (p.internal != null) {
            p.internal.close();
        }
        p.plainDesc.close();
    }

    @Override
    public void close() {
        for (Port p : ports) {
            closePort(p);
        }
        args.close();
        primitive.close();
        pd.close();
    }
}
