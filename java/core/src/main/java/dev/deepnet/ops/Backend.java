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

    /**
     * The backend setting cannot be honoured: it names no backend, or forces oneDNN where oneDNN
     * cannot load. Every call that needs the selected backend throws it again, with the same message.
     */
    public static final class SelectionException extends IllegalStateException {
        SelectionException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The choice, made once. A setting that cannot be honoured is kept as the failure, not thrown
     * from the initializer: that would surface as ExceptionInInitializerError once and as
     * NoClassDefFoundError after, neither naming the setting.
     */
    private static final class Holder {
        static final Backend SELECTED;
        static final SelectionException FAILURE;

        static {
            Backend chosen = null;
            SelectionException failure = null;
            try {
                chosen = choose(configured(), OneDnnLibrary.isAvailable());
            } catch (SelectionException e) {
                failure = e;
            }
            SELECTED = chosen;
            FAILURE = failure;
        }
    }

    /**
     * The backend of this JVM.
     *
     * @throws SelectionException when {@value #PROPERTY} or {@value #ENV} names no backend, or
     *     forces oneDNN where it cannot load
     */
    public static Backend selected() {
        if (Holder.FAILURE != null) {
            // A new exception per call: its stack trace shows this caller, its cause the original reason.
            throw new SelectionException(Holder.FAILURE.getMessage(), Holder.FAILURE.getCause());
        }
        return Holder.SELECTED;
    }

    /** {@code selected().newOps()}. */
    public static Ops newDefaultOps() {
        return selected().newOps();
    }

    /** What the user set, as they would write it again ({@code -Ddeepnet.backend=x} or {@code DEEPNET_BACKEND=x}), and its value. */
    record Setting(String source, String value) {}

    private static Setting configured() {
        String v = System.getProperty(PROPERTY);
        if (v != null && !v.isBlank()) {
            return new Setting("-D" + PROPERTY + "=" + v, v.trim().toLowerCase(Locale.ROOT));
        }
        v = System.getenv(ENV);
        return v == null || v.isBlank() ? null : new Setting(ENV + "=" + v, v.trim().toLowerCase(Locale.ROOT));
    }

    /** The choice, given the user's setting (or null) and whether oneDNN loads. */
    static Backend choose(Setting configured, boolean onednnAvailable) {
        if (configured != null) {
            return switch (configured.value()) {
                case "reference" -> REFERENCE;
                case "onednn" -> {
                    if (!onednnAvailable) {
                        NativeLoadException e = OneDnnLibrary.failure().orElse(null);
                        throw new SelectionException(configured.source() + ", but oneDNN cannot load"
                                + (e == null ? "" : ": " + e.getMessage()), e);
                    }
                    yield ONEDNN;
                }
                default -> throw new SelectionException(configured.source() + " names no backend: use 'onednn' or 'reference'"
                        + " (or leave it unset: oneDNN, or the reference ops when oneDNN cannot load)", null);
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
