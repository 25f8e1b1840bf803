package dev.deepnet.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds, verifies and loads oneDNN's shared library, once per JVM.
 *
 * <p>Where it comes from, in order:
 * <ol>
 *   <li>the path in the system property {@value #PATH_PROPERTY} or, when that is unset, the
 *       environment variable {@value #PATH_ENV}: a {@code libdnnl.so*} file or a directory that
 *       holds {@code libdnnl.so.3} — for another oneDNN 3.x build. It is the user's own library:
 *       it is not hashed against the bundle (it may well be another build), only required to be
 *       a loadable oneDNN whose {@code dnnl_version()} reports major version 3;</li>
 *   <li>otherwise the libraries bundled in this jar (oneDNN 3.8.1, its libgomp and the OpenCL
 *       loader it links against), extracted into a per-user cache directory named by content hash:
 *       {@value #CACHE_PROPERTY} / {@value #CACHE_ENV} when set, else
 *       {@code $XDG_CACHE_HOME/deepnet} or {@code ~/.cache/deepnet}, else a folder under
 *       {@code java.io.tmpdir}. Before anything is loaded from a cache directory, every library
 *       in it is hashed and compared with the SHA-256 recorded in the jar at build time; a file
 *       that differs is re-extracted atomically (see {@link BundledLibraries}). Hashing the 93 MB
 *       of libraries costs about 130 ms per JVM start on an idle 2-core AVX2/SHA-NI machine (up to
 *       about 300 ms with the cores busy);</li>
 *   <li>when no cache directory can be used or repaired (read-only, full, not a directory, a
 *       foreign directory in a library's place), a fresh private directory under
 *       {@code java.io.tmpdir} for this process alone, deleted at exit, with a warning through
 *       {@link System.Logger} that names what failed.</li>
 * </ol>
 * A bundled library is never loaded before its hash has matched. Nothing is ever downloaded.
 * Libraries are loaded into the global arena and stay loaded for the life of the JVM. When every
 * option fails, {@link NativeLoadException} says what was tried: for a corrupt cached file, its
 * path and its expected and actual SHA-256, and why it could not be re-extracted.
 */
public final class OneDnnLibrary {

    /** System property naming another oneDNN build (a libdnnl.so file or its directory). */
    public static final String PATH_PROPERTY = "deepnet.onednn.path";
    /** Environment variable read when {@link #PATH_PROPERTY} is unset. */
    public static final String PATH_ENV = "DEEPNET_ONEDNN_PATH";
    /** System property naming the directory bundled libraries are extracted into. */
    public static final String CACHE_PROPERTY = "deepnet.native.cache";
    /** Environment variable read when {@link #CACHE_PROPERTY} is unset. */
    public static final String CACHE_ENV = "DEEPNET_NATIVE_CACHE";

    private static final String DNNL_FILE = "libdnnl.so.3";
    private static final System.Logger LOG = System.getLogger(OneDnnLibrary.class.getName());

    private OneDnnLibrary() {}

    /** What was loaded: its symbols, the library file, and how it was chosen ("bundled, ...", "from -D..."). */
    public record Loaded(SymbolLookup symbols, Path library, String origin) {}

    // Holder idiom: the first caller loads; later callers see the same result or the same failure.
    private static final class Holder {
        static final Loaded LOADED;
        static final NativeLoadException FAILURE;

        static {
            Loaded loaded = null;
            NativeLoadException failure = null;
            try {
                OpenMpEnvironment.apply(); // before libgomp loads: it reads its environment once, then
                loaded = load(Platform.current(), configured(PATH_PROPERTY, PATH_ENV), configured(CACHE_PROPERTY, CACHE_ENV));
            } catch (NativeLoadException e) {
                failure = e;
            } catch (RuntimeException e) { // a malformed path in a property, a security manager: still one clear failure
                failure = new NativeLoadException(Platform.current(), java.util.List.of("setup: " + e), e);
            }
            LOADED = loaded;
            FAILURE = failure;
        }
    }

    /** The loaded library; loads it on first call. */
    public static Loaded loaded() {
        if (Holder.FAILURE != null) {
            // A fresh exception per call keeps the caller's stack trace; the cause is the first failure.
            throw new NativeLoadException(Holder.FAILURE.platform(), Holder.FAILURE.attempts(), Holder.FAILURE);
        }
        return Holder.LOADED;
    }

    /** oneDNN's symbols; loads the library on first call. */
    public static SymbolLookup symbols() {
        return loaded().symbols();
    }

    /** Whether oneDNN can be loaded in this JVM (loads it when it has not been tried yet). */
    public static boolean isAvailable() {
        return Holder.FAILURE == null;
    }

    /** Why oneDNN cannot be loaded, or empty when it can. */
    public static Optional<NativeLoadException> failure() {
        return Optional.ofNullable(Holder.FAILURE);
    }

    private static String configured(String property, String env) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(env);
        }
        return value == null || value.isBlank() ? null : value.trim();
    }

    /**
     * Loads oneDNN for {@code platform}: from {@code override} when given, else from the bundled
     * libraries extracted under {@code cacheOverride} or the default cache roots. Package-private
     * so tests can exercise every branch without touching the JVM-wide holder.
     */
    static Loaded load(Platform platform, String override, String cacheOverride) {
        List<String> attempts = new ArrayList<>();
        Throwable lastCause = null;
        if (override != null) {
            Path path = Path.of(override);
            Path file = Files.isDirectory(path) ? path.resolve(DNNL_FILE) : path;
            String source = "-D" + PATH_PROPERTY + " / " + PATH_ENV;
            if (!Files.isRegularFile(file)) {
                attempts.add(file + " (from " + source + "): no such file");
                throw new NativeLoadException(platform, attempts, null);
            }
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(file, Arena.global());
                String version = requireVersion3(lookup);
                return new Loaded(lookup, file, "from " + source + ", oneDNN " + version);
            } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
                attempts.add(file + " (from " + source + "): " + e.getMessage());
                throw new NativeLoadException(platform, attempts, e);
            }
        }

        BundledLibraries bundled;
        try {
            bundled = BundledLibraries.find(platform);
        } catch (java.io.IOException e) {
            attempts.add("bundled libraries for " + platform.id() + ": " + e.getMessage());
            throw new NativeLoadException(platform, attempts, e);
        }
        if (bundled == null) {
            attempts.add("resource /dev/deepnet/nativelib/" + platform.id()
                    + "/index.txt: deepnet-native bundles oneDNN only for linux-x86_64");
            throw new NativeLoadException(platform, attempts, null);
        }

        for (Path root : cacheRoots(cacheOverride)) {
            Path dir;
            try {
                checkPrivate(root);
                dir = bundled.extractTo(root);
            } catch (java.io.IOException | SecurityException e) {
                attempts.add(root + ": cannot extract there: " + BundledLibraries.reason(e));
                lastCause = e;
                continue;
            }
            try {
                return loadVerified(bundled, dir, "bundled, extracted to the cache");
            } catch (IllegalArgumentException e) {
                attempts.add(dir + ": extracted and verified but cannot be loaded: " + e.getMessage());
                lastCause = e;
            }
        }

        // Last resort: a directory no other process writes to, so nothing can be wrong in it
        // but what this JVM itself extracts and verifies.
        Path parent = Path.of(System.getProperty("java.io.tmpdir"));
        try {
            Path dir = bundled.extractToFreshDirectory(parent);
            Loaded loaded = loadVerified(bundled, dir,
                    "bundled, extracted to a temporary directory for this process: no cache directory could be used");
            LOG.log(System.Logger.Level.WARNING, "oneDNN was extracted to " + dir + " for this process only, because no"
                    + " cache directory could be used (set -D" + CACHE_PROPERTY + " or " + CACHE_ENV
                    + " to a writable directory):\n  - " + String.join("\n  - ", attempts));
            return loaded;
        } catch (java.io.IOException | SecurityException e) {
            attempts.add("a fresh temporary directory under " + parent + ": cannot extract there: " + BundledLibraries.reason(e));
            lastCause = e;
        } catch (IllegalArgumentException e) {
            attempts.add("a fresh temporary directory under " + parent + ": extracted and verified but cannot be loaded: "
                    + e.getMessage());
            lastCause = e;
        }
        throw new NativeLoadException(platform, attempts, lastCause);
    }

    /** Loads the libraries {@link BundledLibraries} has just verified in {@code dir}, in index order. */
    private static Loaded loadVerified(BundledLibraries bundled, Path dir, String origin) {
        SymbolLookup lookup = null;
        // Dependencies first; libdnnl's RUNPATH is $ORIGIN, so it would find them anyway, but
        // loading them explicitly makes a broken one fail with its own name.
        for (BundledLibraries.Entry entry : bundled.entries()) {
            lookup = SymbolLookup.libraryLookup(dir.resolve(entry.name()), Arena.global());
        }
        return new Loaded(lookup, dir.resolve(DNNL_FILE), origin);
    }

    /**
     * Reads dnnl_version() and requires major version 3: the bindings were generated from
     * oneDNN 3.8's headers, and another major version has another ABI.
     */
    private static String requireVersion3(SymbolLookup lookup) {
        java.lang.foreign.MemorySegment symbol = lookup.find("dnnl_version")
                .orElseThrow(() -> new UnsatisfiedLinkError("no dnnl_version symbol: not a oneDNN library"));
        try {
            java.lang.invoke.MethodHandle h = java.lang.foreign.Linker.nativeLinker().downcallHandle(symbol,
                    java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.ADDRESS));
            java.lang.foreign.MemorySegment v = ((java.lang.foreign.MemorySegment) h.invokeExact()).reinterpret(12);
            int major = v.get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
            int minor = v.get(java.lang.foreign.ValueLayout.JAVA_INT, 4);
            int patch = v.get(java.lang.foreign.ValueLayout.JAVA_INT, 8);
            if (major != 3) {
                throw new UnsatisfiedLinkError("it is oneDNN " + major + "." + minor + "." + patch + "; deepnet needs oneDNN 3.x");
            }
            return major + "." + minor + "." + patch;
        } catch (UnsatisfiedLinkError e) {
            throw e;
        } catch (Throwable t) {
            throw new UnsatisfiedLinkError("calling dnnl_version failed: " + t);
        }
    }

    /** Where bundled libraries may be extracted, in order of preference. */
    static List<Path> cacheRoots(String cacheOverride) {
        if (cacheOverride != null) {
            return List.of(Path.of(cacheOverride));
        }
        List<Path> roots = new ArrayList<>();
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            roots.add(Path.of(xdg, "deepnet"));
        }
        String home = System.getProperty("user.home");
        if (home != null && !home.isBlank() && !"?".equals(home)) {
            roots.add(Path.of(home, ".cache", "deepnet"));
        }
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        roots.add(Path.of(System.getProperty("java.io.tmpdir"), "deepnet-" + user));
        return roots;
    }

    /**
     * A cache root shared with other users (under the temporary directory) must be ours and
     * private, or another user could plant a library there for us to load.
     */
    static void checkPrivate(Path root) throws java.io.IOException {
        if (!root.startsWith(Path.of(System.getProperty("java.io.tmpdir")))) {
            return;
        }
        if (!Files.exists(root)) {
            try {
                Files.createDirectories(root, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            } catch (UnsupportedOperationException e) {
                Files.createDirectories(root);
            }
        }
        try {
            String owner = Files.getOwner(root).getName();
            String me = System.getProperty("user.name");
            if (me != null && !owner.equals(me)) {
                throw new java.io.IOException(root + " belongs to " + owner + ", not to " + me);
            }
            if (Files.getPosixFilePermissions(root).stream().anyMatch(p -> p.name().startsWith("GROUP_WRITE")
                    || p.name().startsWith("OTHERS_WRITE"))) {
                throw new java.io.IOException(root + " is writable by other users");
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing more to check
        }
    }
}
