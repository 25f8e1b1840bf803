package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.TreeMap;

/** Execution argument ids ({@code DNNL_ARG_*}): which memory plays which role in a primitive. */
public final class Arg {
    private Arg() {}

    public static final int SRC = DNNL_ARG_SRC;
    public static final int SRC_1 = DNNL_ARG_SRC_1;
    public static final int DST = DNNL_ARG_DST;
    public static final int WEIGHTS = DNNL_ARG_WEIGHTS;
    public static final int BIAS = DNNL_ARG_BIAS;
    public static final int WORKSPACE = DNNL_ARG_WORKSPACE;
    public static final int SCRATCHPAD = DNNL_ARG_SCRATCHPAD;
    public static final int FROM = DNNL_ARG_FROM;
    public static final int TO = DNNL_ARG_TO;
    public static final int DIFF_SRC = DNNL_ARG_DIFF_SRC;
    public static final int DIFF_SRC_1 = DNNL_ARG_DIFF_SRC_1;
    public static final int DIFF_DST = DNNL_ARG_DIFF_DST;
    public static final int DIFF_WEIGHTS = DNNL_ARG_DIFF_WEIGHTS;
    public static final int DIFF_BIAS = DNNL_ARG_DIFF_BIAS;
    public static final int MEAN = DNNL_ARG_MEAN;
    public static final int VARIANCE = DNNL_ARG_VARIANCE;
    public static final int SCALE = DNNL_ARG_SCALE;
    public static final int SHIFT = DNNL_ARG_SHIFT;
    public static final int DIFF_SCALE = DNNL_ARG_DIFF_SCALE;
    public static final int DIFF_SHIFT = DNNL_ARG_DIFF_SHIFT;
    /** The i-th input of a sum or concat is {@code MULTIPLE_SRC + i}. */
    public static final int MULTIPLE_SRC = DNNL_ARG_MULTIPLE_SRC;

    private static final Map<Integer, String> NAMES = names();
    /** Every named id below {@link #MULTIPLE_SRC}, ascending: the single arguments a primitive can take. */
    private static final int[] SINGLE = NAMES.keySet().stream().mapToInt(Integer::intValue).filter(id -> id > 0 && id < DNNL_ARG_MULTIPLE_SRC)
            .sorted().toArray();

    /** The ids of every single (not multiple-source) argument oneDNN defines, ascending. */
    static int[] singleIds() {
        return SINGLE.clone();
    }

    /** A readable name for an argument id, e.g. {@code weights} for 33. */
    public static String name(int arg) {
        if (arg >= MULTIPLE_SRC && arg < DNNL_ARG_MULTIPLE_DST) {
            return "src #" + (arg - MULTIPLE_SRC);
        }
        String n = NAMES.get(arg);
        return n == null ? "argument " + arg : n;
    }

    // The first DNNL_ARG_* constant with a given value wins (DNNL_ARG_SRC before DNNL_ARG_SRC_0).
    private static Map<Integer, String> names() {
        Map<Integer, String> names = new TreeMap<>();
        for (Field f : dev.deepnet.dnnl.internal.dnnl_h.class.getFields()) {
            if (f.getName().startsWith("DNNL_ARG_") && f.getType() == int.class && Modifier.isStatic(f.getModifiers())) {
                try {
                    String name = f.getName().substring("DNNL_ARG_".length()).toLowerCase(java.util.Locale.ROOT);
                    int value = f.getInt(null);
                    names.merge(value, name, (a, b) -> a.length() <= b.length() ? a : b);
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return names;
    }
}
