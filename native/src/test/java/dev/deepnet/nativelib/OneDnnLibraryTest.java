package dev.deepnet.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void anUnwritableCacheIsReportedWithEveryPathTried(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x"); // a file where a directory must go
        NativeLoadException e = assertThrows(NativeLoadException.class,
                () -> OneDnnLibrary.load(new Platform("linux", "x86_64"), null, file.toString()));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("cannot extract"), e.getMessage());
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

    /**
     * Several JVMs starting at once against one empty cache (Spark executors on one host): each
     * must load a complete library. Each child extracts, loads and calls dnnl_version.
     */
    @Test
    void severalJvmsExtractingIntoOneCacheAtOnceAllLoad(@TempDir Path cache) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<Process> children = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            children.add(new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                    "-D" + OneDnnLibrary.CACHE_PROPERTY + "=" + cache,
                    "-cp", System.getProperty("java.class.path"), LoadProbe.class.getName())
                    .redirectErrorStream(true).start());
        }
        for (Process p : children) {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("oneDNN 3.8.1 from " + cache), out);
        }
    }

    /** The child of {@link #severalJvmsExtractingIntoOneCacheAtOnceAllLoad}. */
    public static final class LoadProbe {
        public static void main(String[] args) throws Throwable {
            OneDnnLibrary.Loaded loaded = OneDnnLibrary.loaded();
            MemorySegment symbol = loaded.symbols().find("dnnl_version").orElseThrow();
            MethodHandle version = Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.ADDRESS));
            MemorySegment v = ((MemorySegment) version.invokeExact()).reinterpret(12);
            System.out.println("oneDNN " + v.get(ValueLayout.JAVA_INT, 0) + "." + v.get(ValueLayout.JAVA_INT, 4) + "."
                    + v.get(ValueLayout.JAVA_INT, 8) + " from " + loaded.library());
        }
    }
}
