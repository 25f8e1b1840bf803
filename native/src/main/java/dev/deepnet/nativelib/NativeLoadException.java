package dev.deepnet.nativelib;

import java.util.List;

/**
 * oneDNN could not be loaded. The message names the platform, every location tried with the
 * reason it failed (for a corrupt cached library: its path, expected and actual SHA-256, and why
 * it could not be re-extracted), the property that points deepnet at another oneDNN build and
 * the one that moves the cache.
 */
public final class NativeLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Platform platform;
    private final List<String> attempts;

    NativeLoadException(Platform platform, List<String> attempts, Throwable cause) {
        super(message(platform, attempts), cause);
        this.platform = platform;
        this.attempts = List.copyOf(attempts);
    }

    /** The platform that was detected. */
    public Platform platform() {
        return platform;
    }

    /** Each location tried, with the reason it failed, in the order tried. */
    public List<String> attempts() {
        return attempts;
    }

    private static String message(Platform platform, List<String> attempts) {
        StringBuilder sb = new StringBuilder("cannot load oneDNN on platform ")
                .append(platform.id())
                .append("; tried:");
        if (attempts.isEmpty()) {
            sb.append(" nothing");
        }
        for (String attempt : attempts) {
            sb.append("\n  - ").append(attempt);
        }
        sb.append("\nTo use another oneDNN 3.x build, set -D").append(OneDnnLibrary.PATH_PROPERTY)
                .append("=/path/to/libdnnl.so.3 (or its directory), or the environment variable ")
                .append(OneDnnLibrary.PATH_ENV).append("; to extract the bundled oneDNN elsewhere, set -D")
                .append(OneDnnLibrary.CACHE_PROPERTY).append("=/a/writable/directory (or ")
                .append(OneDnnLibrary.CACHE_ENV).append(").");
        return sb.toString();
    }
}
