package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

/**
 * Memory formats ({@code dnnl_format_tag_t}) deepnet names. Letters are dimensions in logical
 * order ({@code a} = outermost logical dimension); a tag lists them from outermost to innermost
 * in memory. {@link #ANY} lets a primitive choose its preferred (often blocked) layout.
 */
public enum FormatTag {
    UNDEF(dnnl_format_tag_undef),
    /** Let the primitive choose. */
    ANY(dnnl_format_tag_any),
    A(dnnl_a),
    AB(dnnl_ab),
    BA(dnnl_ba),
    ABC(dnnl_abc),
    ACB(dnnl_acb),
    ABCD(dnnl_abcd),
    ACDB(dnnl_acdb),
    BACD(dnnl_bacd),
    ABCDE(dnnl_abcde),
    /** (N, C, H, W), plain. */
    NCHW(dnnl_nchw),
    /** (N, C, H, W) stored channels-last. */
    NHWC(dnnl_nhwc),
    /** Weights (O, I, H, W), plain: PyTorch's layout. */
    OIHW(dnnl_oihw),
    /** (N, C). */
    NC(dnnl_nc),
    /** Weights (O, I). */
    OI(dnnl_oi),
    /** Weights (O, I) stored (I, O). */
    IO(dnnl_io),
    /** 1-D. */
    X(dnnl_x),
    /** (N, C, H, W) with channels in blocks of 8 innermost (nChw8c): AVX2 kernels' favourite. */
    ABCD8B(dnnl_aBcd8b),
    /** (N, C, H, W) with channels in blocks of 16 innermost (nChw16c): AVX-512 kernels' favourite. */
    ABCD16B(dnnl_aBcd16b);

    private final int code;

    FormatTag(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The plain row-major tag for {@code ndims} dimensions ({@code a}, {@code ab}, ...). */
    public static FormatTag plain(int ndims) {
        return switch (ndims) {
            case 1 -> A;
            case 2 -> AB;
            case 3 -> ABC;
            case 4 -> ABCD;
            case 5 -> ABCDE;
            default -> throw new IllegalArgumentException("no plain format tag for " + ndims + " dimensions (1 to 5 supported)");
        };
    }

    private static final java.util.concurrent.ConcurrentHashMap<String, Integer> CODES = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The {@code dnnl_format_tag_t} value of a tag oneDNN names, e.g. {@code "aBcd16b"}, including the
     * many this enum does not list. Throws {@link IllegalArgumentException} for a name it does not define.
     */
    public static int codeOf(String tag) {
        if (tag == null || !tag.matches("[a-lA-L]+(?:[0-9]+[a-l])*")) {
            throw new IllegalArgumentException("not a oneDNN format tag: " + tag);
        }
        return CODES.computeIfAbsent(tag, t -> {
            try {
                // dnnl_h holds every dnnl_format_tag_t constant under its own name (dnnl_aBcd16b, ...).
                java.lang.reflect.Field f = dev.deepnet.dnnl.internal.dnnl_h.class.getField("dnnl_" + t);
                int code = f.getInt(null);
                if (f.getType() != int.class || code <= dnnl_format_tag_any || code >= dnnl_format_tag_last) {
                    throw new IllegalArgumentException("not a oneDNN format tag: " + t);
                }
                return code;
            } catch (NoSuchFieldException | IllegalAccessException e) {
                throw new IllegalArgumentException("oneDNN 3.8 defines no format tag " + t);
            }
        });
    }
}
