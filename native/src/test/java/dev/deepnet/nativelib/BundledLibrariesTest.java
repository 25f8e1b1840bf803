package dev.deepnet.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
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

    @Test
    void noLibrariesAreBundledForOtherPlatforms() throws IOException {
        assertEquals(null, BundledLibraries.find(new Platform("windows", "x86_64")));
    }
}
