package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

/** oneDNN's {@code dnnl_status_t}: what a C call returned. */
public enum Status {
    SUCCESS(dnnl_success),
    OUT_OF_MEMORY(dnnl_out_of_memory),
    INVALID_ARGUMENTS(dnnl_invalid_arguments),
    UNIMPLEMENTED(dnnl_unimplemented),
    LAST_IMPL_REACHED(dnnl_last_impl_reached),
    RUNTIME_ERROR(dnnl_runtime_error),
    NOT_REQUIRED(dnnl_not_required),
    INVALID_GRAPH(dnnl_invalid_graph),
    INVALID_GRAPH_OP(dnnl_invalid_graph_op),
    INVALID_SHAPE(dnnl_invalid_shape),
    INVALID_DATA_TYPE(dnnl_invalid_data_type),
    /** A value this version of deepnet does not know. */
    UNKNOWN(-1);

    private final int code;

    Status(int code) {
        this.code = code;
    }

    /** The C value. */
    public int code() {
        return code;
    }

    /** The status with C value {@code code}; {@link #UNKNOWN} for any other value. */
    public static Status of(int code) {
        for (Status s : values()) {
            if (s.code == code && s != UNKNOWN) {
                return s;
            }
        }
        return UNKNOWN;
    }

    /** oneDNN's own spelling, e.g. {@code invalid_arguments}. */
    public String cName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
