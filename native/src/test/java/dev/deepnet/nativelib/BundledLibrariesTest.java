package dev.deepnet.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundledLibrariesTest {

    private static final Platform LINUX_X64 = new Platform("linux", "x86_64");

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        digest.update(Files.readAllBytes(file));
        return HexFormat.of().formatHex(digest.digest());
    }

    @Test
    void indexListsTheThreeLibrariesInLoadOrder() throws IOException {
        BundledLibraries bundled = BundledLibraries.find(LINUX_X64);
        assertNotNull(bundled, "deepnet-native must bundle linux-x86_64 libraries");
        List<String> names = bundled.entries().stream().map(BundledLibraries.Entry::name).toList();
        assertEquals(List.of("libOpenCL.so.1", "libgomp.so.1", "libdnnl.so.3"), names);
        assertTrue(bundled.directoryName().matches("onednn-linux-x86_64-[0-9a-f]{16}"), bundled.directoryName());
    }

    @Test
    void extractsEveryLibraryWithItsIndexedHashAndLeavesNoTemporaryFiles(@TempDir Path root) throws Exception {
        BundledLibraries bundled = BundledLibraries.find(LINUX_X64);
        Path dir = bundled.extractTo(root);
        assertEquals(root.resolve(bundled.directoryName()), dir);
        for (BundledLibraries.Entry e : bundled.entries()) {
            Path file = dir.resolve(e.name());
            assertEquals(e.size(), Files.size(file), e.name());
            assertEquals(e.sha256(), sha256(file), e.name());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(3, files.count(), "only the three libraries, no .part files");
        }
    }

    @Test
    void aTruncatedCachedLibraryIsReplaced(@TempDir Path root) throws Exception {
        BundledLibraries bundled = BundledLibraries.find(LINUX_X64);
        Path dir = bundled.extractTo(root);
        Path gomp = dir.resolve("libgomp.so.1");
        byte[] good = Files.readAllBytes(gomp);
        Files.write(gomp, new byte[] {1, 2, 3});
        bundled.extractTo(root);
        assertArrayEquals(good, Files.readAllBytes(gomp));
    }

    @Test
    void aSameSizeCorruptedLibraryIsDetectedByItsHashAndReplaced(@TempDir Path root) throws Exception {
        BundledLibraries bundled = BundledLibraries.find(LINUX_X64);
        Path dir = bundled.extractTo(root);
        BundledLibraries.Entry gomp = entry(bundled, "libgomp.so.1");
        Path file = dir.resolve(gomp.name());
        byte[] good = Files.readAllBytes(file);
        byte[] patched = good.clone();
        patched[patched.length / 2] ^= 0x5a; // two bytes: size unchanged, so only the hash can tell
        patched[patched.length / 2 + 1] ^= 0x5a;
        Files.write(file, patched);

        String problem = BundledLibraries.mismatch(gomp, file);
        assertNotNull(problem, "a patched file must not pass");
        assertTrue(problem.contains(gomp.sha256()) && problem.contains(sha256(file)), problem);

        bundled.extractTo(root);
        assertArrayEquals(good, Files.readAllBytes(file));
        assertNull(BundledLibraries.mismatch(gomp, file), "the repaired file passes");
    }

    /**
     * A jar without its libraries (a broken download) cannot repair the cache: the error must name
     * the cached file and both hashes, and the corrupt file must be left for nobody to trust.
     */
    @Test
    void aCorruptLibraryThatCannotBeReExtractedIsReportedWithItsPathAndBothHashes(@TempDir Path root) throws Exception {
        BundledLibraries bundled = BundledLibraries.find(LINUX_X64);
        Path dir = bundled.extractTo(root);
        BundledLibraries.Entry gomp = entry(bundled, "libgomp.so.1");
        Path file = dir.resolve(gomp.name());
        Files.write(file, new byte[(int) gomp.size()]);
        String zeroedHash = sha256(file);
        BundledLibraries withoutResources = new BundledLibraries(LINUX_X64, "/no/such/resources/", bundled.entries());

        IOException e = assertThrows(IOException.class, () -> withoutResources.extractTo(root));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(gomp.sha256()), e.getMessage());
        assertTrue(e.getMessage().contains(zeroedHash), e.getMessage());
        assertTrue(e.getMessage().contains("missing from the jar"), e.getMessage());
        assertEquals(zeroedHash, sha256(file));
        assertEquals(List.of(), temporaryFiles(dir), "a failed repair leaves no temporary file");
    }

    @Test
    void anEmptyDirectoryInALibrarysPlaceIsReplacedButAFullOneIsLeftAndReported(@TempDir Path root) throws Exception {
        BundledLibraries bundled = BundledLibraries.find(LINUX_X64);
        Path dir = root.resolve(bundled.directoryName());
        Path gomp = dir.resolve("libgomp.so.1");
        Files.createDirectories(gomp);
        bundled.extractTo(root);
        assertEquals(entry(bundled, "libgomp.so.1").sha256(), sha256(gomp));

        Files.delete(gomp);
        Path someonesFile = Files.writeString(Files.createDirectories(gomp).resolve("notes.txt"), "not deepnet's");
        IOException e = assertThrows(IOException.class, () -> bundled.extractTo(root));
        assertTrue(e.getMessage().contains(gomp + " is a directory"), e.getMessage());
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertEquals("not deepnet's", Files.readString(someonesFile), "deepnet deletes only what it wrote");
    }

    @Test
    void staleTemporaryFilesAreDeletedAndRecentOnesKept(@TempDir Path root) throws Exception {
        BundledLibraries bundled = BundledLibraries.find(LINUX_X64);
        Path dir = bundled.extractTo(root);
        Path stale = Files.writeString(dir.resolve("libdnnl.so.3.1234.part"), "half of a library");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now()
                .minus(BundledLibraries.STALE_TEMPORARY_FILE_AGE).minus(Duration.ofMinutes(1))));
        Path recent = Files.writeString(dir.resolve("libdnnl.so.3.5678.part"), "another JVM is writing this");
        Path foreign = Files.writeString(dir.resolve("notes.part"), "not a library's temporary file");
        Files.setLastModifiedTime(foreign, Files.getLastModifiedTime(stale));

        bundled.extractTo(root);
        assertFalse(Files.exists(stale), "a temporary file older than the limit is deleted");
        assertTrue(Files.exists(recent), "a temporary file another JVM may still be writing is kept");
        assertTrue(Files.exists(foreign), "a file that is no library's temporary file is kept");
    }

    @Test
    void aFreshDirectoryIsPrivateAndHoldsOnlyVerifiedLibraries(@TempDir Path parent) throws Exception {
        BundledLibraries bundled = BundledLibraries.find(LINUX_X64);
        Path dir = bundled.extractToFreshDirectory(parent);
        assertEquals(parent, dir.getParent());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        for (BundledLibraries.Entry e : bundled.entries()) {
            assertEquals(e.sha256(), sha256(dir.resolve(e.name())), e.name());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(bundled.entries().size(), files.count(), "only the libraries, no temporary files");
        }
        assertNotEquals(dir, bundled.extractToFreshDirectory(parent), "each call gets its own directory");
    }

    @Test
    void concurrentExtractionsIntoOneCacheAllSeeCompleteFiles(@TempDir Path root) throws Exception {
        BundledLibraries bundled = BundledLibraries.find(LINUX_X64);
        int threads = 6;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    Path dir = bundled.extractTo(root);
                    // What each extractor sees when it returns must already be complete.
                    for (BundledLibraries.Entry e : bundled.entries()) {
                        assertEquals(e.size(), Files.size(dir.resolve(e.name())), e.name());
                    }
                    return dir;
                }));
            }
            start.countDown();
            for (Future<Path> f : results) {
                assertEquals(root.resolve(bundled.directoryName()), f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        for (BundledLibraries.Entry e : bundled.entries()) {
            assertEquals(e.sha256(), sha256(root.resolve(bundled.directoryName()).resolve(e.name())));
        }
    }

    private static BundledLibraries.Entry entry(BundledLibraries bundled, String name) {
        return bundled.entries().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow();
    }

    private static List<Path> temporaryFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".part")).toList();
        }
    }

    @Test
    void noLibrariesAreBundledForOtherPlatforms() throws IOException {
        assertEquals(null, BundledLibraries.find(new Platform("windows", "x86_64")));
    }
}
