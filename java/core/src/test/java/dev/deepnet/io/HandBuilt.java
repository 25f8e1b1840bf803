package dev.deepnet.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Safetensors files assembled byte by byte from the specification, without the code under test. */
final class HandBuilt {

    private HandBuilt() {}

    /** The 8-byte little-endian length of {@code header}'s UTF-8 bytes, the header, then {@code data}. */
    static byte[] file(String header, byte[] data) {
        return file(header.getBytes(StandardCharsets.UTF_8), data);
    }

    static byte[] file(byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(u64(header.length));
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** {@code n} as 8 bytes, least significant first. */
    static byte[] u64(long n) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (n >>> (8 * i));
        }
        return b;
    }

    /** The IEEE 754 bits of each value, least significant byte first. */
    static byte[] f32(float... values) {
        byte[] b = new byte[values.length * 4];
        for (int i = 0; i < values.length; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            for (int k = 0; k < 4; k++) {
                b[4 * i + k] = (byte) (bits >>> (8 * k));
            }
        }
        return b;
    }

    static byte[] zeros(int n) {
        return new byte[n];
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A tensor for {@link #tensors}: its dtype as the header spells it and its dimensions. */
    record Spec(String dtype, long... dims) {
        static Spec f32(long... dims) {
            return new Spec("F32", dims);
        }

        long bytes() {
            long n = dtype.equals("F16") || dtype.equals("BF16") ? 2 : dtype.equals("F64") || dtype.equals("I64") ? 8 : 4;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    /**
     * A safetensors file holding {@code tensors} in order, back to back, and {@code metadata} (may
     * be empty). Data byte i is i % 61, so every F32 value is finite and the tensors differ.
     */
    static byte[] tensors(Map<String, String> metadata, Map<String, Spec> tensors) {
        StringBuilder header = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            header.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                header.append(first ? "" : ",").append(string(e.getKey())).append(':').append(string(e.getValue()));
                first = false;
            }
            header.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Spec> e : tensors.entrySet()) {
            header.append(header.length() == 1 ? "" : ",").append(string(e.getKey())).append(":{\"dtype\":\"")
                    .append(e.getValue().dtype()).append("\",\"shape\":[");
            long[] dims = e.getValue().dims();
            for (int i = 0; i < dims.length; i++) {
                header.append(i == 0 ? "" : ",").append(dims[i]);
            }
            long end = offset + e.getValue().bytes();
            header.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        header.append('}');
        byte[] data = new byte[Math.toIntExact(offset)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i % 61); // a top byte below 0x7F: never an F32 exponent of all ones (inf, NaN)
        }
        return file(header.toString(), data);
    }

    /** {@code s} as a JSON string literal: quotes, backslashes and control characters escaped. */
    static String string(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
