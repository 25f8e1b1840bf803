package dev.deepnet.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OneDnnLibraryTest {

    @Test
    void loadsTheBundledLibraryAndFindsItsSymbols() throws Throwable {
        OneDnnLibrary.Loaded loaded = OneDnnLibrary.loaded();
        assertTrue(loaded.origin().startsWith("bundled"), loaded.origin());
        MemorySegment symbol = loaded.symbols().find("dnnl_version").orElseThrow();
        MethodHandle version = Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.ADDRESS));
        MemorySegment v = ((MemorySegment) version.invokeExact()).reinterpret(12);
        assertEquals(3, v.get(ValueLayout.JAVA_INT, 0), "major");
        assertEquals(8, v.get(ValueLayout.JAVA_INT, 4), "minor");
        assertEquals(1, v.get(ValueLayout.JAVA_INT, 8), "patch");
    }

    @Test
    void aMissingOverrideNamesThePlatformThePathAndTheProperty(@TempDir Path dir) {
        Path missing = dir.resolve("nowhere/libdnnl.so.3");
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> OneDnnLibrary.load(new Platform("linux", "x86_64"), missing.toString(), null));
        assertTrue(e.getMessage().contains("linux-x86_64"), e.getMessage());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(OneDnnLibrary.PATH_PROPERTY), e.getMessage());
        assertTrue(e.getMessage().contains(OneDnnLibrary.PATH_ENV), e.getMessage());
    }

    @Test
    void anOverrideThatIsNoLibraryFailsWithTheLoaderReason(@TempDir Path dir) throws IOException {
        Path bogus = Files.writeString(dir.resolve("libdnnl.so.3"), "not an ELF file");
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> OneDnnLibrary.load(new Platform("linux", "x86_64"), dir.toString(), null));
        assertEquals(1, e.attempts().size());
        assertTrue(e.attempts().get(0).startsWith(bogus.toString()), e.attempts().toString());
    }

    @Test
    void anUnsupportedPlatformSaysSo() {
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> OneDnnLibrary.load(new Platform("macosx", "arm64"), null, null));
        assertTrue(e.getMessage().contains("macosx-arm64"), e.getMessage());
        assertTrue(e.getMessage().contains("only for linux-x86_64"), e.getMessage());
    }

    @Test
    void aSharedTemporaryCacheRootMustBePrivate() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path open = Files.createTempDirectory(tmp, "deepnet-open-");
        try {
            Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
            IOException e = assertThrows(IOException.class, () -> OneDnnLibrary.checkPrivate(open));
            assertTrue(e.getMessage().contains("writable by other users"), e.getMessage());
            Path fresh = open.resolve("fresh");
            Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            OneDnnLibrary.checkPrivate(fresh); // created private
            assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)));
        } finally {
            try (var files = Files.walk(open)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void platformNamesAreNormalised() {
        assertEquals("linux-x86_64", Platform.of("Linux", "amd64").id());
        assertEquals("linux-arm64", Platform.of("Linux", "aarch64").id());
        assertEquals("macosx-x86_64", Platform.of("Mac OS X", "x86_64").id());
        assertEquals("windows-x86_64", Platform.of("Windows 11", "AMD64").id());
    }

    // ---- Child JVMs. Loading is once per JVM, so every case that loads runs in a JVM of its own,
    // against a cache and a java.io.tmpdir under the test's temporary directory.

    /** What a child JVM printed (stdout and stderr together) and how it exited. */
    private record Child(int exitCode, String output) {}

    private static Process startProbe(Path cache, Path tmpdir) throws IOException {
        return startProbe(cache, tmpdir, System.getProperty("java.class.path"));
    }

    private static Process startProbe(Path cache, Path tmpdir, String classPath) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder builder = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-D" + OneDnnLibrary.CACHE_PROPERTY + "=" + cache, "-Djava.io.tmpdir=" + tmpdir,
                "-cp", classPath, LoadProbe.class.getName())
                .redirectErrorStream(true);
        // An override in this JVM's environment would bypass the bundled libraries under test.
        builder.environment().remove(OneDnnLibrary.PATH_ENV);
        builder.environment().remove(OneDnnLibrary.CACHE_ENV);
        return builder.start();
    }

    private static Child finish(Process process) throws Exception {
        // Read to the end first: the child's output is small, and reading drains the pipe.
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "child JVM timed out: " + output);
        return new Child(process.exitValue(), output);
    }

    private static BundledLibraries bundled() throws IOException {
        return BundledLibraries.find(new Platform("linux", "x86_64"));
    }

    /**
     * Every library in {@code dir} has its indexed SHA-256, hashed here rather than by the code
     * under test, so a loader that skipped its check cannot also pass this one.
     */
    private static void assertVerified(BundledLibraries bundled, Path dir) throws Exception {
        for (BundledLibraries.Entry e : bundled.entries()) {
            Path file = dir.resolve(e.name());
            assertTrue(Files.isRegularFile(file), file + " is no regular file");
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(file)) {
                in.transferTo(new DigestOutputStream(OutputStream.nullOutputStream(), digest));
            }
            assertEquals(e.sha256(), HexFormat.of().formatHex(digest.digest()), file.toString());
        }
    }

    /** The ways a cache was found broken (issue 12), each applied to a complete, verified cache. */
    enum Corruption {
        /** Two bytes in libdnnl's .text (it spans bytes 15 M to 83 M): this one crashed a JVM with SIGILL. */
        TWO_BYTES_PATCHED_IN_LIBDNNL {
            @Override void apply(Path dir) throws IOException {
                Path file = dir.resolve("libdnnl.so.3");
                long middle = Files.size(file) / 2;
                overwriteInPlace(file, middle, new byte[] {(byte) 0xff, (byte) 0xff});
            }
        },
        LIBDNNL_ZEROED {
            @Override void apply(Path dir) throws IOException {
                Path file = dir.resolve("libdnnl.so.3");
                overwriteInPlace(file, 0, new byte[(int) Files.size(file)]);
            }
        },
        LIBDNNL_RANDOM_BYTES {
            @Override void apply(Path dir) throws IOException {
                Path file = dir.resolve("libdnnl.so.3");
                byte[] noise = new byte[(int) Files.size(file)];
                new Random(12).nextBytes(noise);
                overwriteInPlace(file, 0, noise);
            }
        },
        LIBGOMP_ZEROED {
            @Override void apply(Path dir) throws IOException {
                Path file = dir.resolve("libgomp.so.1");
                overwriteInPlace(file, 0, new byte[(int) Files.size(file)]);
            }
        },
        /** A page of code gone: this one loaded and ran. */
        FOUR_KIB_ZEROED_IN_THE_MIDDLE_OF_LIBDNNL {
            @Override void apply(Path dir) throws IOException {
                Path file = dir.resolve("libdnnl.so.3");
                overwriteInPlace(file, Files.size(file) / 2 & ~4095L, new byte[4096]);
            }
        },
        LIBDNNL_TRUNCATED {
            @Override void apply(Path dir) throws IOException {
                try (FileChannel channel = FileChannel.open(dir.resolve("libdnnl.so.3"), StandardOpenOption.WRITE)) {
                    channel.truncate(channel.size() / 3);
                }
            }
        },
        EMPTY_DIRECTORY_WHERE_LIBDNNL_BELONGS {
            @Override void apply(Path dir) throws IOException {
                Files.delete(dir.resolve("libdnnl.so.3"));
                Files.createDirectory(dir.resolve("libdnnl.so.3"));
            }
        },
        /** What a JVM killed mid-extraction leaves: garbage under a temporary name, beside good files. */
        STRAY_TEMPORARY_FILE {
            @Override void apply(Path dir) throws IOException {
                Files.write(dir.resolve("libdnnl.so.3.4242.part"), new byte[] {0x7f, 'E', 'L', 'F', 0});
            }
        };

        abstract void apply(Path dir) throws IOException;

        /**
         * Writes {@code bytes} at {@code position} into the existing file (same inode, same size)
         * and restores its modification time: a check on size, mtime or inode sees no change.
         */
        static void overwriteInPlace(Path file, long position, byte[] bytes) throws IOException {
            FileTime modified = Files.getLastModifiedTime(file);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.write(ByteBuffer.wrap(bytes), position);
            }
            Files.setLastModifiedTime(file, modified);
        }
    }

    @ParameterizedTest
    @EnumSource(Corruption.class)
    void aCorruptedCacheIsRepairedBeforeAnythingLoadsFromIt(Corruption corruption, @TempDir Path temp) throws Exception {
        BundledLibraries bundled = bundled();
        Path cache = temp.resolve("cache");
        Path dir = bundled.extractTo(cache);
        corruption.apply(dir);
        Path tmpdir = Files.createDirectory(temp.resolve("tmp"));

        Child child = finish(startProbe(cache, tmpdir));

        assertEquals(0, child.exitCode(), child.output());
        assertTrue(child.output().contains("oneDNN 3.8.1 from " + dir.resolve("libdnnl.so.3")
                + " (bundled, extracted to the cache), CPU engine created"), child.output());
        assertVerified(bundled, dir);
        try (Stream<Path> left = Files.list(tmpdir)) {
            assertEquals(List.of(), left.toList(), "a repairable cache needs no per-process directory");
        }
    }

    /** Caches deepnet cannot repair or use, though the JVM can still extract for itself. */
    enum UnusableCache {
        /** Not deepnet's to delete: another program's directory where libdnnl.so.3 belongs. */
        FULL_DIRECTORY_WHERE_LIBDNNL_BELONGS {
            @Override Path prepare(Path temp) throws IOException {
                Path cache = temp.resolve("cache");
                Path library = cache.resolve(bundled().directoryName()).resolve("libdnnl.so.3");
                Files.writeString(Files.createDirectories(library).resolve("notes.txt"), "not deepnet's");
                return library;
            }
        },
        /** The configured cache is a regular file, so no directory can be made there. */
        CACHE_IS_A_FILE {
            @Override Path prepare(Path temp) throws IOException {
                return Files.writeString(temp.resolve("cache"), "a file where the cache directory must go");
            }
        };

        /** Breaks {@code temp/cache} and returns the path the warning must name. */
        abstract Path prepare(Path temp) throws IOException;
    }

    @ParameterizedTest
    @EnumSource(UnusableCache.class)
    void aCacheThatCannotBeUsedGivesWayToAPrivateDirectoryForThisProcessWithAWarning(UnusableCache unusable,
            @TempDir Path temp) throws Exception {
        Path named = unusable.prepare(temp);
        Path tmpdir = Files.createDirectory(temp.resolve("tmp"));

        Child child = finish(startProbe(temp.resolve("cache"), tmpdir));

        assertEquals(0, child.exitCode(), child.output());
        assertTrue(child.output().contains("oneDNN 3.8.1 from " + tmpdir.resolve("deepnet-onednn-linux-x86_64-")), child.output());
        assertTrue(child.output().contains("temporary directory for this process"), child.output());
        assertTrue(child.output().contains("WARNING") && child.output().contains(named.toString())
                && child.output().contains("-D" + OneDnnLibrary.CACHE_PROPERTY), child.output());
        try (Stream<Path> left = Files.list(tmpdir)) {
            assertEquals(List.of(), left.toList(), "the per-process directory is deleted when the JVM exits");
        }
    }

    /**
     * A corrupt cached libdnnl, and a jar whose libraries are missing (a broken download), so
     * neither the cache nor a fresh directory can be filled: the JVM must refuse, naming the file,
     * both hashes and the settings — never load the corrupt file.
     */
    @Test
    void aCorruptCacheThatNothingCanRepairIsRefusedNamingTheFileBothHashesAndTheSettings(@TempDir Path temp)
            throws Exception {
        BundledLibraries bundled = bundled();
        Path cache = temp.resolve("cache");
        Path dir = bundled.extractTo(cache);
        Corruption.TWO_BYTES_PATCHED_IN_LIBDNNL.apply(dir);
        Path library = dir.resolve("libdnnl.so.3");
        byte[] corrupt = Files.readAllBytes(library);
        String corruptHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(corrupt));
        Path tmpdir = Files.createDirectory(temp.resolve("tmp"));

        Child child = finish(startProbe(cache, tmpdir, classPathWithoutTheLibraries(temp.resolve("classes"))));

        assertNotEquals(0, child.exitCode(), child.output());
        String expectedHash = bundled.entries().stream().filter(e -> e.name().equals("libdnnl.so.3"))
                .findFirst().orElseThrow().sha256();
        for (String part : List.of("NativeLoadException", library.toString(), corruptHash, expectedHash,
                "-D" + OneDnnLibrary.CACHE_PROPERTY, "-D" + OneDnnLibrary.PATH_PROPERTY, "missing from the jar")) {
            assertTrue(child.output().contains(part), "'" + part + "' not in:\n" + child.output());
        }
        assertFalse(child.output().contains("CPU engine created"), child.output());
        assertArrayEquals(corrupt, Files.readAllBytes(library), "nothing could repair it");
    }

    /**
     * This module's classes, test classes and index.txt, without the .so resources: a deepnet-native
     * jar whose libraries went missing.
     */
    private static String classPathWithoutTheLibraries(Path copy) throws IOException {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path source = Path.of(entry);
            if (!Files.isDirectory(source)) {
                entries.add(entry);
                continue;
            }
            Path target = copy.resolve(String.valueOf(entries.size()));
            try (Stream<Path> files = Files.walk(source)) {
                for (Path file : files.toList()) {
                    if (file.getFileName().toString().contains(".so.")) {
                        continue;
                    }
                    Path to = target.resolve(source.relativize(file).toString());
                    if (Files.isDirectory(file)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(file, to);
                    }
                }
            }
            entries.add(target.toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    /**
     * Several JVMs starting at once against one empty cache (Spark executors on one host): each
     * must load a complete library.
     */
    @Test
    void severalJvmsExtractingIntoOneCacheAtOnceAllLoad(@TempDir Path temp) throws Exception {
        Path cache = temp.resolve("cache");
        assertAllLoadAtOnce(cache, Files.createDirectory(temp.resolve("tmp")));
        assertVerified(bundled(), cache.resolve(bundled().directoryName()));
    }

    /**
     * Several JVMs starting at once against one corrupt cache: each verifies while others may be
     * renaming repaired files into place, and each must load a verified library.
     */
    @Test
    void severalJvmsRepairingOneCorruptCacheAtOnceAllLoad(@TempDir Path temp) throws Exception {
        Path cache = temp.resolve("cache");
        Path dir = bundled().extractTo(cache);
        Corruption.LIBDNNL_ZEROED.apply(dir);
        assertAllLoadAtOnce(cache, Files.createDirectory(temp.resolve("tmp")));
        assertVerified(bundled(), dir);
    }

    private static void assertAllLoadAtOnce(Path cache, Path tmpdir) throws Exception {
        List<Process> children = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            children.add(startProbe(cache, tmpdir));
        }
        for (Process p : children) {
            Child child = finish(p);
            assertEquals(0, child.exitCode(), child.output());
            assertTrue(child.output().contains("oneDNN 3.8.1 from " + cache), child.output());
            assertTrue(child.output().contains("CPU engine created"), child.output());
        }
    }

    /**
     * The child JVM: loads oneDNN, calls dnnl_version and creates and destroys a CPU engine (which
     * runs oneDNN's CPU detection and initialisation, well beyond one exported function). A load
     * failure is left uncaught, so its message and a non-zero exit reach the test.
     */
    public static final class LoadProbe {
        public static void main(String[] args) throws Throwable {
            OneDnnLibrary.Loaded loaded = OneDnnLibrary.loaded();
            Linker linker = Linker.nativeLinker();
            MethodHandle version = linker.downcallHandle(loaded.symbols().find("dnnl_version").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            MemorySegment v = ((MemorySegment) version.invokeExact()).reinterpret(12);
            MethodHandle create = linker.downcallHandle(loaded.symbols().find("dnnl_engine_create").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            MethodHandle destroy = linker.downcallHandle(loaded.symbols().find("dnnl_engine_destroy").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment engine = arena.allocate(ValueLayout.ADDRESS);
                int dnnlCpu = 1;
                int created = (int) create.invokeExact(engine, dnnlCpu, 0L);
                if (created != 0) {
                    throw new IllegalStateException("dnnl_engine_create returned status " + created);
                }
                int destroyed = (int) destroy.invokeExact(engine.get(ValueLayout.ADDRESS, 0));
                if (destroyed != 0) {
                    throw new IllegalStateException("dnnl_engine_destroy returned status " + destroyed);
                }
            }
            System.out.println("oneDNN " + v.get(ValueLayout.JAVA_INT, 0) + "." + v.get(ValueLayout.JAVA_INT, 4) + "."
                    + v.get(ValueLayout.JAVA_INT, 8) + " from " + loaded.library() + " (" + loaded.origin()
                    + "), CPU engine created");
        }
    }
}
