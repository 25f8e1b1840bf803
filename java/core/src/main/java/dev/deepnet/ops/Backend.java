package dev.deepnet.ops;

import dev.deepnet.nativelib.NativeLoadException;
import dev.deepnet.nativelib.OneDnnLibrary;
import java.util.Locale;

/**
 * Which {@link Ops} implementation runs: oneDNN by default; the plain-Java reference when oneDNN
 * cannot load (with one warning saying why and how to fix it), or when the system property
 * {@value #PROPERTY} (or the environment variable {@value #ENV}) says {@code reference}. Chosen
 * once per JVM.
 */
public enum Backend {
    ONEDNN,
    REFERENCE;

    /** System property forcing a backend: {@code onednn} or {@code reference}. */
    public static final String PROPERTY = "deepnet.backend";
    /** Environment variable read when the property is unset. */
    public static final String ENV = "DEEPNET_BACKEND";

    /** A new {@link Ops} instance of this backend (close it when done). */
    public Ops newOps() {
        return newOps(0);
    }

    /**
     * A new {@link Ops} instance that computes on at most {@code threads} threads (0: the calling
     * thread's setting, by default every core); the reference ops always use the calling thread alone.
     */
    public Ops newOps(int threads) {
        return switch (this) {
            case ONEDNN -> new OneDnnOps(threads);
            case REFERENCE -> new ReferenceOps();
        };
    }

    private static final class Holder {
        static final Backend SELECTED = choose(configured(), OneDnnLibrary.isAvailable());
    }

    /** The backend of this JVM. */
    public static Backend selected() {
        return Holder.SELECTED;
    }

    /** {@code selected().newOps()}. */
    public static Ops newDefaultOps() {
        return selected().newOps();
    }

    private static String configured() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) {
            v = System.getenv(ENV);
        }
        return v == null || v.isBlank() ? null : v.trim().toLowerCase(Locale.ROOT);
    }

    /** The choice, given the configured value (or null) and whether oneDNN loads. */
    static Backend choose(String configured, boolean onednnAvailable) {
        if (configured != null) {
            return switch (configured) {
                case "reference" -> REFERENCE;
                case "onednn" -> {
                    if (!onednnAvailable) {
                        NativeLoadException e = OneDnnLibrary.failure().orElse(null);
                        throw new IllegalStateException("-D" + PROPERTY + "=onednn, but oneDNN cannot load"
                                + (e == null ? "" : ": " + e.getMessage()), e);
                    }
                    yield ONEDNN;
                }
                default -> throw new IllegalArgumentException(PROPERTY + " must be 'onednn' or 'reference', not '" + configured + "'");
            };
        }
        if (onednnAvailable) {
            return ONEDNN;
        }
        System.getLogger(Backend.class.getName()).log(System.Logger.Level.WARNING,
                "oneDNN cannot load, so deepnet runs on its plain-Java reference ops (correct but slow): {0}",
                OneDnnLibrary.failure().map(Throwable::getMessage).orElse("unknown reason"));
        return REFERENCE;
    }
}
