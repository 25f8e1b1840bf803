package dev.deepnet.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Parameter;
import dev.deepnet.onnx.internal.OnnxProto.ModelProto;
import dev.deepnet.onnx.internal.OnnxProto.StringStringEntryProto;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Models in and out of <a href="https://onnx.ai">ONNX</a>, the format ONNX Runtime, PyTorch's
 * exporter, DJL and Deeplearning4j share.
 *
 * <pre>{@code
 * try (Model net = OnnxFile.load(Path.of("lenet.onnx"));          // checked whole before anything is allocated
 *      Plan plan = net.compileForInference(ops, 32)) { ... }      // any batch size: the batch dimension is free
 * OnnxFile.save(trained, Path.of("trained.onnx"));                // runs in ONNX Runtime
 * }</pre>
 *
 * <p><b>Reading</b> takes opsets {@value OnnxImport#MIN_OPSET} to {@value OnnxImport#MAX_OPSET} of
 * the default domain and these ops, each onto a deepnet layer: Conv (2-D, one group; bias, pads,
 * auto_pad, strides, dilations) as {@code Conv2d}; Gemm (transB either way, alpha, beta, a bias C
 * broadcast over the batch) and MatMul by a constant, with an Add of a constant after it folded into
 * the bias, as {@code Dense}; Relu, Sigmoid, Tanh; MaxPool and AveragePool (pads, auto_pad, strides,
 * ceil_mode, count_include_pad); LRN (odd size); Softmax over dimension 1; Flatten at axis 1 and
 * Reshape to (N, -1) as {@code Flatten}; Add and Sum of equal shapes and Concat on axis 1 as joins;
 * Dropout as {@code Dropout} (its ratio kept for fine-tuning; at inference it passes values
 * through); Identity and Constant. The graph has one float input (batch, fixed dimensions...) — the
 * batch dimension may be symbolic — and one output. Initializers become the layers' parameters:
 * trainable, like any deepnet model's. Weights may be in external data files, which must lie
 * inside the model's folder (no absolute paths, no {@code ..} or links out of it).
 *
 * <p>Anything else — another op, an attribute deepnet does not support or a value it cannot
 * compute — is one {@link OnnxException} naming the node, its op type and the opset, thrown after
 * the whole graph is checked against what it needs and before a tensor is allocated.
 *
 * <p><b>Writing</b> emits opset {@value OnnxExport#OPSET}: every layer deepnet has, one node each
 * (a dense layer's nonlinearity a node of its own), input {@code input} and output {@code output}
 * with a symbolic batch dimension {@code N}, initializers named {@code <layer>.weight} and
 * {@code <layer>.bias}; and, given, metadata as the model's {@code metadata_props} (the class
 * names and image preprocessing {@code Predictor.load} reads back, {@link #metadata}).
 */
public final class OnnxFile {
    private OnnxFile() {}

    /** Above this many bytes of parameters, {@link #save} writes them to a data file beside the model (protobuf stops at 2 GiB). */
    static final long EXTERNAL_DATA_ABOVE = 1L << 30;

    /** Reads {@code file} within {@link ModelFile.Limits#fromSystemProperties()}; see {@link #load(Path, ModelFile.Limits)}. */
    public static Model load(Path file) throws IOException {
        return load(file, ModelFile.Limits.fromSystemProperties());
    }

    /**
     * Builds the model that ONNX file {@code file} describes, its initializers loaded as parameters.
     * The whole file is checked first: every node's op, attributes, inputs and shapes, every
     * initializer's data (external files included), and the {@code limits} on parameters and
     * activations. Only then is memory allocated.
     *
     * @throws OnnxException when the file is not ONNX, is malformed, or asks for what deepnet does not do
     * @throws IOException when it cannot be read
     */
    public static Model load(Path file, ModelFile.Limits limits) throws IOException {
        Objects.requireNonNull(limits, "limits");
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) {
            throw new OnnxException(file, "is " + size + " bytes; an ONNX file holds at most 2 GiB (protobuf's limit): "
                    + "larger weights belong in external data files");
        }
        byte[] bytes = Files.readAllBytes(file);
        ModelProto proto;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.enableAliasing(true); // raw tensor data stays a view of the bytes read, not a copy
            proto = ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxException(file, "is not an ONNX model (its protobuf cannot be parsed: " + e.getMessage() + ")", e);
        }
        Path folder = file.toAbsolutePath().getParent();
        OnnxImport plan;
        try {
            plan = OnnxImport.plan(proto, folder, limits);
        } catch (InvalidOnnx e) {
            throw new OnnxException(file, e.getMessage(), e.getCause());
        } catch (RuntimeException e) { // a check missing in the importer: still the loader's exception, cause kept
            throw new OnnxException(file, "cannot be read: " + e, e);
        }
        try {
            return plan.build(); // closes what it made when it fails
        } catch (InvalidOnnx e) {
            throw new OnnxException(file, e.getMessage(), e.getCause());
        } catch (RuntimeException e) {
            throw new OnnxException(file, "passed every check but could not be built: " + e, e);
        }
    }

    /**
     * Writes {@code model} as ONNX (atomically: the file appears whole or not at all). Parameters
     * past 1 GiB go to {@code <file name>.data} beside it, as ONNX's external data.
     *
     * @throws IllegalArgumentException naming the layer when a layer has no ONNX form
     */
    public static void save(Model model, Path file) throws IOException {
        save(model, file, Map.of());
    }

    /**
     * {@link #save(Model, Path)} with {@code metadata} as the model's {@code metadata_props}, e.g.
     * the class names and image preprocessing that {@code Predictor.load} reads back:
     * {@code OnnxFile.save(model, file, ModelFile.classifierMetadata(labels, preprocessing))}.
     */
    public static void save(Model model, Path file, Map<String, String> metadata) throws IOException {
        long bytes = 0;
        for (Parameter p : model.parameters()) {
            bytes += p.shape().byteSize();
        }
        save(model, file, bytes > EXTERNAL_DATA_ABOVE, metadata);
    }

    /** {@link #save(Model, Path)}, with the parameters in {@code <file name>.data} when {@code externalData}. */
    static void save(Model model, Path file, boolean externalData) throws IOException {
        save(model, file, externalData, Map.of());
    }

    private static void save(Model model, Path file, boolean externalData, Map<String, String> metadata) throws IOException {
        OnnxExport.checkExportable(model);
        List<StringStringEntryProto> props = new ArrayList<>();
        metadata.forEach((k, v) -> props.add(StringStringEntryProto.newBuilder().setKey(k).setValue(v).build()));
        Path target = file.toAbsolutePath();
        List<Path> temps = new ArrayList<>();
        model.lifetime().acquire(model); // the initializers are views of the parameters until written
        try {
            ModelProto proto;
            Path data = target.resolveSibling(target.getFileName() + ".data");
            if (externalData) {
                Path temp = temp(data, temps);
                try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    proto = OnnxExport.toProto(model, new OnnxExport.External(data.getFileName().toString(), ch));
                    ch.force(true);
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            } else {
                proto = OnnxExport.toProto(model, null);
            }
            if (!props.isEmpty()) {
                proto = proto.toBuilder().addAllMetadataProps(props).build(); // shallow: tensor data is not copied
            }
            Path temp = temp(target, temps);
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                proto.writeTo(out);
                out.flush();
                ch.force(true);
            }
            if (externalData) {
                Files.move(temps.get(0), data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            for (Path t : temps) {
                try {
                    Files.deleteIfExists(t);
                } catch (IOException d) {
                    e.addSuppressed(d);
                }
            }
            throw e;
        } finally {
            model.lifetime().release();
        }
    }

    /**
     * The model's {@code metadata_props} (key-value pairs a producer attached, e.g.
     * {@link ModelFile#CLASSES_KEY} and {@link ModelFile#PREPROCESSING_KEY} from
     * {@link #save(Model, Path, Map)}), read without parsing the graph or its weights.
     *
     * @throws OnnxException when the file is not ONNX or a key appears twice
     */
    public static Map<String, String> metadata(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (InputStream stream = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            CodedInputStream in = CodedInputStream.newInstance(stream);
            in.setSizeLimit(Integer.MAX_VALUE);
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (tag == METADATA_PROPS_TAG) {
                    StringStringEntryProto e = in.readMessage(StringStringEntryProto.parser(), ExtensionRegistryLite.getEmptyRegistry());
                    if (out.putIfAbsent(e.getKey(), e.getValue()) != null) {
                        throw new OnnxException(file, "its metadata_props name the key '" + e.getKey() + "' twice");
                    }
                } else if (!in.skipField(tag)) {
                    break; // an end-group tag: not a ModelProto
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxException(file, "is not an ONNX model (its protobuf cannot be parsed: " + e.getMessage() + ")", e);
        }
        return out;
    }

    /** ModelProto.metadata_props: field 14, length-delimited. */
    private static final int METADATA_PROPS_TAG = (ModelProto.METADATA_PROPS_FIELD_NUMBER << 3) | 2;

    private static Path temp(Path target, List<Path> temps) {
        Path t = target.resolveSibling("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        temps.add(t);
        return t;
    }
}
