package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

/** Element types ({@code dnnl_data_type_t}) deepnet uses. */
public enum DataType {
    UNDEF(dnnl_data_type_undef, 0),
    F32(dnnl_f32, 4),
    F16(dnnl_f16, 2),
    BF16(dnnl_bf16, 2),
    S32(dnnl_s32, 4),
    S8(dnnl_s8, 1),
    U8(dnnl_u8, 1);

    private final int code;
    private final int bytes;

    DataType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    public int code() {
        return code;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    public static DataType of(int code) {
        for (DataType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("data type " + code + " is not one deepnet uses");
    }
}
