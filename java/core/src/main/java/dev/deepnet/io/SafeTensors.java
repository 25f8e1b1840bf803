package dev.deepnet.io;

import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes tensors in Hugging Face's <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format, so that weights move between deepnet and PyTorch (or anything else that speaks it).
 *
 * <h2>The format</h2>
 *
 * <pre>
 * bytes 0-7        N, an unsigned little-endian 64-bit integer: the header's size in bytes
 * bytes 8..8+N     the header: UTF-8 JSON, an object, starting with '{', maybe padded with spaces
 * the rest         the data buffer: every tensor's bytes, little-endian, row-major (C order)
 *
 * {"__metadata__": {"format": "pt"},
 *  "fc.weight": {"dtype": "F32", "shape": [10, 84], "data_offsets": [0, 3360]},
 *  "fc.bias":   {"dtype": "F32", "shape": [10],     "data_offsets": [3360, 3400]}}
 * </pre>
 *
 * <p>{@code data_offsets} are [begin, end) relative to the start of the data buffer. The optional
 * {@code __metadata__} maps strings to strings. Reading enforces every rule of the format and
 * refuses anything else, naming the file, the byte offset or the tensor, and the problem: a
 * header length that is over 100 MB or past the end of the file; a header that is not valid
 * UTF-8, not JSON, not an object, or has duplicate keys; a tensor entry without exactly
 * {@code dtype}, {@code shape}, {@code data_offsets}; an unknown dtype; offsets that end before
 * they begin or past the data buffer; a byte count other than the shape's element count times
 * the dtype's size; and tensors that leave holes in the data buffer or overlap (the buffer must be
 * fully indexed). A shape {@code []} is a scalar of one element; a zero dimension means no
 * elements. Only F32 tensors can be loaded (deepnet computes in f32); a file may hold others
 * (BF16, F16, I64, ...), which are listed and validated, and loading one throws an error naming
 * it and its dtype.
 *
 * <h2>Names and layouts deepnet uses</h2>
 *
 * <p>deepnet lays tensors out like PyTorch, so PyTorch weights load without transposes: dense
 * (linear) weights (out, in), convolution weights (out, in, kH, kW), biases (out), all f32 and
 * row-major. Parameters are named like the keys of a PyTorch {@code state_dict()}: the layer's
 * name, a dot, and {@code weight} or {@code bias} ({@code "conv1.weight"}, {@code "fc.bias"});
 * layers inside containers are named by their path ({@code "features.0.weight"}). Thus
 * {@code safetensors.torch.save_file(model.float().state_dict(), "model.safetensors")} writes a
 * file deepnet reads for an architecture whose layers have the same names. Weights from frameworks
 * with other layouts (e.g. Keras dense kernels, (in, out)) need transposing before saving.
 *
 * <h2>Usage</h2>
 *
 * <pre>{@code
 * Map<String, Tensor> params = new LinkedHashMap<>();   // iteration order = order in the file
 * params.put("fc.weight", weight);
 * params.put("fc.bias", bias);
 * SafeTensors.write(path, params, Map.of("epoch", "12"));
 *
 * try (SafeTensorsFile f = SafeTensors.read(path)) {    // the whole header is validated here
 *     for (var e : params.entrySet()) {                 // check everything first ...
 *         if (!f.contains(e.getKey()) || !f.shape(e.getKey()).equals(e.getValue().shape())) { ... }
 *     }
 *     for (var e : params.entrySet()) {                 // ... then copy
 *         f.copyTo(e.getKey(), e.getValue());
 *     }
 * }
 * }</pre>
 */
public final class SafeTensors {

    private SafeTensors() {}

    /**
     * Opens {@code file} and reads and validates its whole header, so that a malformed file fails
     * here, before any tensor is copied. Close the result.
     *
     * @throws SafeTensorsException when the file breaks a rule of the format
     * @throws IOException when it cannot be read
     */
    public static SafeTensorsFile read(Path file) throws IOException {
        return SafeTensorsFile.open(file);
    }

    /** {@link #write(Path, Map, Map)} without metadata. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} as F32 with {@code metadata} (omitted from the header when empty).
     *
     * <p>Tensors are written in the map's iteration order, their header keys in the same order,
     * after {@code __metadata__}: pass a {@link java.util.LinkedHashMap} to control the layout.
     * The header is compact JSON padded with spaces to a multiple of 8 bytes, so the data starts
     * 8-byte aligned.
     *
     * <p>Atomic: the file is written to a temporary file in the same directory, flushed to disk,
     * then renamed over {@code file}. If anything fails, e.g. a tensor turns out to be closed, the
     * temporary file is deleted and {@code file} keeps its previous content (or stays absent).
     *
     * @throws IllegalArgumentException for a tensor named {@code __metadata__}, or a name or
     *     metadata string that is not valid Unicode (an unpaired surrogate)
     * @throws IllegalStateException when a tensor is closed
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata (use Map.of() for none)");
        byte[] header = header(tensors, metadata);

        Path target = file.toAbsolutePath();
        Path temp = target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    Arena arena = Arena.ofConfined()) {
                writeFully(channel, ByteBuffer.wrap(header));
                MemorySegment staging = arena.allocate(SafeTensorsFile.STAGING_BYTES, 8);
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    writeData(channel, staging, e.getKey(), e.getValue(), file);
                }
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException d) {
                e.addSuppressed(d);
            }
            throw e;
        }
    }

    /** The 8-byte length, then the JSON header padded with spaces to a multiple of 8. */
    private static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            Json.appendQuoted(json, SafeTensorsFile.METADATA_KEY);
            json.append(":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                String key = checkedString(e.getKey(), "metadata key");
                String value = checkedString(e.getValue(), "metadata value of " + Json.quote(key));
                json.append(first ? "" : ",");
                Json.appendQuoted(json, key);
                json.append(':');
                Json.appendQuoted(json, value);
                first = false;
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = checkedString(e.getKey(), "tensor name");
            if (name.equals(SafeTensorsFile.METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor cannot be named " + SafeTensorsFile.METADATA_KEY
                        + ": the format reserves that key for metadata");
            }
            Tensor t = Objects.requireNonNull(e.getValue(), () -> "tensor " + SafeTensorsFile.quoteName(name) + " is null");
            long end = offset + t.shape().byteSize();
            json.append(json.length() > 1 ? "," : "");
            Json.appendQuoted(json, name);
            json.append(":{\"dtype\":\"F32\",\"shape\":[");
            long[] dims = t.shape().dims();
            for (int i = 0; i < dims.length; i++) {
                json.append(i == 0 ? "" : ",").append(dims[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = text.length + (8 - text.length % 8) % 8;
        if (padded > SafeTensorsFile.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("the header would be " + padded + " bytes, over the format's limit of "
                    + SafeTensorsFile.MAX_HEADER_BYTES + " (too many tensors or too much metadata)");
        }
        ByteBuffer out = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(text);
        while (out.hasRemaining()) {
            out.put((byte) ' ');
        }
        return out.array();
    }

    private static String checkedString(String s, String what) {
        Objects.requireNonNull(s, () -> what + " is null");
        int bad = Json.unpairedSurrogate(s);
        if (bad >= 0) {
            throw new IllegalArgumentException(what + " " + SafeTensorsFile.quoteName(s) + " has an unpaired surrogate U+"
                    + String.format("%04X", (int) s.charAt(bad)) + " at index " + bad + " and cannot be written as UTF-8");
        }
        return s;
    }

    /** The tensor's floats, little-endian, through {@code staging}. */
    private static void writeData(FileChannel channel, MemorySegment staging, String name, Tensor t, Path file)
            throws IOException {
        if (!t.isOpen()) {
            throw new IllegalStateException("tensor " + SafeTensorsFile.quoteName(name) + " " + t.shape()
                    + " is closed (its memory was freed); " + file + " was not written");
        }
        MemorySegment data = t.segment();
        ByteBuffer buffer = staging.asByteBuffer();
        long total = data.byteSize();
        for (long done = 0; done < total; ) {
            int n = (int) Math.min(staging.byteSize(), total - done);
            MemorySegment.copy(data, ValueLayout.JAVA_FLOAT, done, staging, SafeTensorsFile.LITTLE_ENDIAN_F32, 0,
                    n / Float.BYTES);
            buffer.clear().limit(n);
            writeFully(channel, buffer);
            done += n;
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
