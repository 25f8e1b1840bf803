package dev.deepnet.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A safetensors file as its parts — the header's JSON text and the data buffer — so that a
 * mutator can edit the header and {@link #join} puts the 8-byte length back in front, correct
 * for the new header: the edit then reaches the JSON checks instead of failing the length check.
 *
 * <p>The header is held as ISO-8859-1 text, one char per byte, so bytes that are not UTF-8
 * (left by an earlier byte-level mutation) survive a round trip unchanged.
 */
record SafeTensorsLayout(String header, byte[] data) {

    /** The parts of {@code file}, or null when its first 8 bytes do not give a header length inside it. */
    static SafeTensorsLayout split(byte[] file) {
        if (file.length < 8) {
            return null;
        }
        long n = ByteMutators.read(file, 0, 8, true);
        if (n < 0 || n > file.length - 8) {
            return null;
        }
        return new SafeTensorsLayout(new String(file, 8, (int) n, StandardCharsets.ISO_8859_1),
                java.util.Arrays.copyOfRange(file, 8 + (int) n, file.length));
    }

    byte[] join() {
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[8 + h.length + data.length];
        ByteMutators.write(out, 0, 8, h.length, true);
        System.arraycopy(h, 0, out, 8, h.length);
        System.arraycopy(data, 0, out, 8 + h.length, data.length);
        return out;
    }

    SafeTensorsLayout withHeader(String newHeader) {
        return new SafeTensorsLayout(newHeader, data);
    }

    // ---------------------------------------------------------------- building seeds by the specification

    /** One tensor of a hand-built file: a dtype name as the header spells it, and a shape. */
    record Tensor(String name, String dtype, long... shape) {}

    /** Bits per element of the dtypes the specification defines. */
    static final Map<String, Integer> DTYPE_BITS = Map.ofEntries(
            Map.entry("BOOL", 8), Map.entry("F4", 4), Map.entry("F6_E2M3", 6), Map.entry("F6_E3M2", 6), Map.entry("U8", 8),
            Map.entry("I8", 8), Map.entry("F8_E5M2", 8), Map.entry("F8_E4M3", 8), Map.entry("F8_E8M0", 8),
            Map.entry("F8_E4M3FNUZ", 8), Map.entry("F8_E5M2FNUZ", 8), Map.entry("I16", 16), Map.entry("U16", 16),
            Map.entry("F16", 16), Map.entry("BF16", 16), Map.entry("I32", 32), Map.entry("U32", 32), Map.entry("F32", 32),
            Map.entry("C64", 64), Map.entry("F64", 64), Map.entry("I64", 64), Map.entry("U64", 64));

    /** The dtype names in a fixed order (for picking one deterministically). */
    static final List<String> DTYPES = DTYPE_BITS.keySet().stream().sorted().toList();

    /**
     * A file written from the specification, not by the code under test: the metadata first,
     * tensors in order, data filled from {@code dataSeed}, the header padded with spaces to a
     * multiple of 8 as the reference writer does.
     */
    static byte[] build(List<Tensor> tensors, Map<String, String> metadata, long dataSeed) {
        StringBuilder h = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            h.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                h.append(first ? "" : ",").append(JsonSpans.quote(e.getKey())).append(':').append(JsonSpans.quote(e.getValue()));
                first = false;
            }
            h.append('}');
        }
        long offset = 0;
        for (Tensor t : tensors) {
            long elements = 1;
            StringBuilder shape = new StringBuilder("[");
            for (int i = 0; i < t.shape.length; i++) {
                elements *= t.shape[i];
                shape.append(i == 0 ? "" : ",").append(t.shape[i]);
            }
            long bytes = elements * DTYPE_BITS.get(t.dtype) / 8;
            h.append(h.length() == 1 ? "" : ",").append(JsonSpans.quote(t.name)).append(":{\"dtype\":\"").append(t.dtype)
                    .append("\",\"shape\":").append(shape).append("],\"data_offsets\":[").append(offset).append(',')
                    .append(offset + bytes).append("]}");
            offset += bytes;
        }
        h.append('}');
        while (h.length() % 8 != 0) {
            h.append(' ');
        }
        byte[] data = new byte[(int) offset];
        new SplittableRandom(dataSeed).nextBytes(data);
        return new SafeTensorsLayout(h.toString(), data).join();
    }
}
