package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

/** Who owns a primitive's scratch memory ({@code dnnl_scratchpad_mode_t}). */
public enum ScratchpadMode {
    /** oneDNN allocates it per primitive (the default). */
    LIBRARY(dnnl_scratchpad_mode_library),
    /** The caller passes it as {@link Arg#SCRATCHPAD}, so one buffer can serve many primitives. */
    USER(dnnl_scratchpad_mode_user);

    private final int code;

    ScratchpadMode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
