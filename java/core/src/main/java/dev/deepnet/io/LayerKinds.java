package dev.deepnet.io;

import dev.deepnet.io.Architecture.BatchNormConfig;
import dev.deepnet.io.Architecture.ConvConfig;
import dev.deepnet.io.Architecture.DenseConfig;
import dev.deepnet.io.Architecture.Fields;
import dev.deepnet.io.Architecture.InvalidException;
import dev.deepnet.io.Architecture.LayerConfig;
import dev.deepnet.io.Architecture.StatelessConfig;
import dev.deepnet.nn.AdaptiveAvgPool2d;
import dev.deepnet.nn.Add;
import dev.deepnet.nn.AvgPool2d;
import dev.deepnet.nn.BatchNorm2d;
import dev.deepnet.nn.Clip;
import dev.deepnet.nn.Concat;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Dropout;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Layer;
import dev.deepnet.nn.Lrn;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Relu;
import dev.deepnet.nn.Sigmoid;
import dev.deepnet.nn.Softmax;
import dev.deepnet.nn.Tanh;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.BatchNormSpec;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.ops.LrnSpec;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Every layer kind a model file holds, each joined here once: its name in the file, its class, the
 * settings it has, how they are read (strictly, into a {@link LayerConfig} that allocates nothing)
 * and how they are written. A new layer is saved and loaded by adding one entry to {@link #ALL}.
 * Settings added to a kind later are optional when read, so older files still load.
 */
final class LayerKinds {
    private LayerKinds() {}

    @FunctionalInterface
    interface Reader {
        LayerConfig read(Fields f, String where) throws InvalidException;
    }

    @FunctionalInterface
    interface Writer<L extends Layer> {
        void write(L layer, Settings out);
    }

    /** One kind: {@code fields} are the settings it may have besides the node's own (layer, name, inputs). */
    record Kind<L extends Layer>(String name, Class<L> type, Set<String> fields, Reader reader, Writer<L> writer) {
        void write(Layer layer, Settings out) {
            writer.write(type.cast(layer), out);
        }
    }

    /** A layer's settings as JSON members, each written {@code , "name": value} after the node's own. */
    static final class Settings {
        private final StringBuilder sb;

        Settings(StringBuilder sb) {
            this.sb = sb;
        }

        Settings integer(String name, long value) {
            sb.append(", ").append(Json.quote(name)).append(": ").append(value);
            return this;
        }

        Settings ints(String name, long... values) {
            sb.append(", ").append(Json.quote(name)).append(": [");
            for (int i = 0; i < values.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(values[i]);
            }
            sb.append(']');
            return this;
        }

        Settings real(String name, float value) {
            sb.append(", ").append(Json.quote(name)).append(": ").append(Float.toString(value));
            return this;
        }

        Settings real(String name, double value) {
            sb.append(", ").append(Json.quote(name)).append(": ").append(Double.toString(value));
            return this;
        }

        Settings string(String name, String value) {
            sb.append(", ").append(Json.quote(name)).append(": ").append(Json.quote(value));
            return this;
        }

        Settings bool(String name, boolean value) {
            sb.append(", ").append(Json.quote(name)).append(": ").append(value);
            return this;
        }
    }

    private static <L extends Layer> Kind<L> kind(String name, Class<L> type, Set<String> fields, Reader reader, Writer<L> writer) {
        return new Kind<>(name, type, fields, reader, writer);
    }

    /** A kind with no settings: the layer made fresh by {@code factory}. */
    private static <L extends Layer> Kind<L> plain(String name, Class<L> type, Supplier<L> factory, boolean join) {
        return kind(name, type, Set.of(), (f, where) -> new PlainConfig(factory, join), (l, out) -> { });
    }

    /** Flatten, the activations, softmax and the joins: layers with no settings. */
    record PlainConfig(Supplier<? extends Layer> factory, boolean join) implements StatelessConfig {
        @Override
        public Layer build() {
            return factory.get();
        }
    }

    record PoolConfig(boolean max, Pool2dSpec spec) implements StatelessConfig {
        @Override
        public Layer build() {
            return max ? new MaxPool2d(spec) : new AvgPool2d(spec);
        }
    }

    record AdaptivePoolConfig(int outputH, int outputW) implements StatelessConfig {
        @Override
        public Layer build() {
            return new AdaptiveAvgPool2d(outputH, outputW);
        }
    }

    record LrnConfig(LrnSpec spec) implements StatelessConfig {
        @Override
        public Layer build() {
            return new Lrn(spec);
        }
    }

    record ClipConfig(float min, float max) implements StatelessConfig {
        @Override
        public Layer build() {
            return new Clip(min, max);
        }
    }

    record DropoutConfig(double p) implements StatelessConfig {
        @Override
        public Layer build() {
            return new Dropout(p);
        }
    }

    private static final Set<String> POOL_FIELDS = Set.of("kernel", "stride", "padding", "count_padding", "ceil_mode"); // ceil_mode: optional

    static final List<Kind<?>> ALL = List.of(
            kind("dense", Dense.class, Set.of("in", "out", "activation"),
                    (f, where) -> new DenseConfig(f.positiveInt("in"), f.positiveInt("out"), activation(f, where)),
                    (d, out) -> out.integer("in", d.inputFeatures()).integer("out", d.outputFeatures())
                            .string("activation", d.activation().name().toLowerCase(Locale.ROOT))),
            kind("conv", Conv2d.class, Set.of("in", "out", "kernel", "stride", "padding", "dilation", "groups"), LayerKinds::conv,
                    (c, out) -> {
                        Shape w = c.weight().shape();
                        Conv2dSpec s = c.spec();
                        out.integer("in", c.inChannels()).integer("out", w.dim(0)).ints("kernel", w.dim(2), w.dim(3))
                                .ints("stride", s.strideH(), s.strideW()).ints("padding", s.padTop(), s.padLeft(), s.padBottom(), s.padRight())
                                .ints("dilation", s.dilationH(), s.dilationW());
                        if (s.groups() != 1) {
                            out.integer("groups", s.groups()); // left out for one group: older readers load the file
                        }
                    }),
            kind("batchnorm", BatchNorm2d.class, Set.of("channels", "epsilon", "momentum"), (f, where) -> {
                int channels = f.positiveInt("channels");
                float epsilon = f.finiteFloat("epsilon");
                float momentum = f.finiteFloat("momentum");
                try {
                    return new BatchNormConfig(channels, new BatchNormSpec(epsilon, momentum));
                } catch (IllegalArgumentException e) {
                    throw new InvalidException(where + ": " + e.getMessage());
                }
            }, (b, out) -> out.integer("channels", b.channels()).real("epsilon", b.spec().epsilon()).real("momentum", b.spec().momentum())),
            kind("maxpool", MaxPool2d.class, POOL_FIELDS, (f, where) -> pool(true, f, where), (m, out) -> pool(m.spec(), out)),
            kind("avgpool", AvgPool2d.class, POOL_FIELDS, (f, where) -> pool(false, f, where), (a, out) -> pool(a.spec(), out)),
            kind("adaptivepool", AdaptiveAvgPool2d.class, Set.of("output"), (f, where) -> {
                int[] o = f.ints("output", 2, 1);
                return new AdaptivePoolConfig(o[0], o[1]);
            }, (a, out) -> out.ints("output", a.outputH(), a.outputW())),
            kind("lrn", Lrn.class, Set.of("size", "alpha", "beta", "k"), (f, where) -> {
                int size = f.positiveInt("size");
                float alpha = f.finiteFloat("alpha");
                float beta = f.finiteFloat("beta");
                float k = f.finiteFloat("k");
                try {
                    return new LrnConfig(new LrnSpec(size, alpha, beta, k));
                } catch (IllegalArgumentException e) {
                    throw new InvalidException(where + ": " + e.getMessage());
                }
            }, (r, out) -> out.integer("size", r.spec().size()).real("alpha", r.spec().alpha()).real("beta", r.spec().beta())
                    .real("k", r.spec().k())),
            kind("dropout", Dropout.class, Set.of("p"), (f, where) -> {
                double p = f.number("p");
                if (!(p >= 0 && p < 1)) {
                    throw new InvalidException(where + ": p (the dropout probability) must be in [0, 1), got " + p);
                }
                return new DropoutConfig(p);
            }, (d, out) -> out.real("p", d.probability())),
            kind("clip", Clip.class, Set.of("min", "max"), (f, where) -> {
                float min = f.finiteFloat("min");
                float max = f.finiteFloat("max");
                if (!(min <= max)) {
                    throw new InvalidException(where + ": min " + min + " must not exceed max " + max);
                }
                return new ClipConfig(min, max);
            }, (c, out) -> out.real("min", c.min()).real("max", c.max())),
            plain("flatten", Flatten.class, Flatten::new, false),
            plain("sigmoid", Sigmoid.class, Sigmoid::new, false),
            plain("relu", Relu.class, Relu::new, false),
            plain("tanh", Tanh.class, Tanh::new, false),
            plain("softmax", Softmax.class, Softmax::new, false),
            plain("add", Add.class, Add::new, true),
            plain("concat", Concat.class, Concat::new, true));

    private static final Map<String, Kind<?>> BY_NAME = index();

    private static Map<String, Kind<?>> index() {
        Map<String, Kind<?>> m = new HashMap<>();
        for (Kind<?> k : ALL) {
            if (m.put(k.name(), k) != null || ALL.stream().filter(o -> o.type() == k.type()).count() != 1) {
                throw new ExceptionInInitializerError("layer kind " + k.name() + " is registered twice");
            }
        }
        return Map.copyOf(m);
    }

    /** The kind a file names, or null when no kind has that name. */
    static Kind<?> named(String name) {
        return BY_NAME.get(name);
    }

    /** Every kind's name. */
    static Set<String> names() {
        return BY_NAME.keySet();
    }

    /** The kind of {@code layer}; an IllegalArgumentException naming it when none is registered. */
    static Kind<?> of(Layer layer) {
        for (Kind<?> k : ALL) {
            if (k.type() == layer.getClass()) {
                return k;
            }
        }
        throw new IllegalArgumentException("cannot save layer " + layer.name() + " of type " + layer.getClass().getName());
    }

    // ---------------------------------------------------------------- settings shared by kinds

    private static LayerConfig conv(Fields f, String where) throws InvalidException {
        int[] k = f.ints("kernel", 2, 1);
        int[] s = f.ints("stride", 2, 1);
        int[] p = f.ints("padding", 4, 0);
        int[] d = f.ints("dilation", 2, 1);
        int groups = f.has("groups") ? f.positiveInt("groups") : 1; // files before grouped convolutions have none
        int in = f.positiveInt("in");
        int out = f.positiveInt("out");
        if (in % groups != 0 || out % groups != 0) {
            throw new InvalidException(where + ": in " + in + " and out " + out + " must be multiples of groups " + groups);
        }
        try {
            return new ConvConfig(in, out, k[0], k[1], new Conv2dSpec(s[0], s[1], p[0], p[1], p[2], p[3], d[0], d[1], groups));
        } catch (IllegalArgumentException e) {
            throw new InvalidException(where + ": " + e.getMessage());
        }
    }

    private static LayerConfig pool(boolean max, Fields f, String where) throws InvalidException {
        int[] k = f.ints("kernel", 2, 1);
        int[] s = f.ints("stride", 2, 1);
        int[] p = f.ints("padding", 4, 0);
        boolean count = f.bool("count_padding");
        boolean ceil = f.has("ceil_mode") && f.bool("ceil_mode"); // files before ceil mode have none
        try {
            return new PoolConfig(max, new Pool2dSpec(k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3], count, ceil));
        } catch (IllegalArgumentException e) {
            throw new InvalidException(where + ": " + e.getMessage());
        }
    }

    private static void pool(Pool2dSpec s, Settings out) {
        out.ints("kernel", s.kernelH(), s.kernelW()).ints("stride", s.strideH(), s.strideW())
                .ints("padding", s.padTop(), s.padLeft(), s.padBottom(), s.padRight()).bool("count_padding", s.countPadding());
        if (s.ceilMode()) {
            out.bool("ceil_mode", true);
        }
    }

    private static Activation activation(Fields f, String where) throws InvalidException {
        String s = f.string("activation");
        for (Activation a : Activation.values()) {
            if (a.name().toLowerCase(Locale.ROOT).equals(s)) {
                return a;
            }
        }
        throw new InvalidException(where + ": activation must be one of "
                + Arrays.stream(Activation.values()).map(a -> a.name().toLowerCase(Locale.ROOT)).toList() + ", got "
                + Fields.describe(s));
    }
}
