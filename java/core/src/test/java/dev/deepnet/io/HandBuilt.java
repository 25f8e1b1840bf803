package dev.deepnet.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

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
}
