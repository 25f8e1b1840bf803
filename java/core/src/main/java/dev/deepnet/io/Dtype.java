package dev.deepnet.io;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The element types the safetensors format defines, with their sizes in bits (as the reference
 * implementation's {@code Dtype::bitsize}). Only {@link #F32} can be loaded into a deepnet
 * tensor; the others are known so that a file holding them can still be validated and listed.
 * Sub-byte types (F4, F6_*) are packed: a tensor of them must fill a whole number of bytes.
 */
enum Dtype {
    BOOL(8),
    F4(4),
    F6_E2M3(6),
    F6_E3M2(6),
    U8(8),
    I8(8),
    F8_E5M2(8),
    F8_E4M3(8),
    F8_E8M0(8),
    F8_E4M3FNUZ(8),
    F8_E5M2FNUZ(8),
    I16(16),
    U16(16),
    F16(16),
    BF16(16),
    I32(32),
    U32(32),
    F32(32),
    C64(64),
    F64(64),
    I64(64),
    U64(64);

    final int bits;

    Dtype(int bits) {
        this.bits = bits;
    }

    /** The dtype spelled {@code name} in a header (case-sensitive), or null. */
    static Dtype byName(String name) {
        for (Dtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** "BOOL, F4, ..., U64", for error messages. */
    static String all() {
        return Arrays.stream(values()).map(Dtype::name).collect(Collectors.joining(", "));
    }
}
