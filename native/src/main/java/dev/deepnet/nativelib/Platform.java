package dev.deepnet.nativelib;

import java.util.Locale;

/**
 * The operating system and processor architecture this JVM runs on, named the way the bundled
 * native resources are laid out ({@code linux-x86_64}).
 */
public record Platform(String os, String arch) {

    /** The platform of the running JVM. */
    public static Platform current() {
        return of(System.getProperty("os.name", "unknown"), System.getProperty("os.arch", "unknown"));
    }

    /** Normalises Java's {@code os.name} and {@code os.arch} values. */
    static Platform of(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            os = "macosx";
        } else if (os.startsWith("windows")) {
            os = "windows";
        } else {
            os = os.replaceAll("[^a-z0-9]+", "");
        }
        String arch = switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64", "x86-64" -> "x86_64";
            case "aarch64", "arm64" -> "arm64";
            case "x86", "i386", "i486", "i586", "i686" -> "x86";
            default -> osArch.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]+", "");
        };
        return new Platform(os, arch);
    }

    /** The resource folder name, e.g. {@code linux-x86_64}. */
    public String id() {
        return os + "-" + arch;
    }

    @Override
    public String toString() {
        return id();
    }
}
