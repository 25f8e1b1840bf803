package dev.deepnet.nativelib;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The shared libraries packaged as resources of deepnet-native for one platform, and their
 * extraction into a cache directory.
 *
 * <p>The build writes {@code index.txt} beside the libraries: one line per library, in load
 * order, with its SHA-256 and size. The cache directory is named by a hash of that index, so a
 * different build of the libraries never reuses another's files. Each library is written to a
 * temporary file in the same directory, checked against its SHA-256, and renamed atomically onto
 * its final name: a library file under its final name is therefore always complete, even while
 * several JVMs (Spark executors, parallel test forks) extract at once.
 */
final class BundledLibraries {

    /** One bundled library: its file name, content hash and size in bytes. */
    record Entry(String name, String sha256, long size) {}

    private final Platform platform;
    private final String resourceDir;
    private final List<Entry> entries;

    private BundledLibraries(Platform platform, String resourceDir, List<Entry> entries) {
        this.platform = platform;
        this.resourceDir = resourceDir;
        this.entries = entries;
    }

    /** The index of the libraries bundled for {@code platform}, or null when none are bundled. */
    static BundledLibraries find(Platform platform) throws IOException {
        String dir = "/dev/deepnet/nativelib/" + platform.id() + "/";
        try (InputStream in = BundledLibraries.class.getResourceAsStream(dir + "index.txt")) {
            if (in == null) {
                return null;
            }
            List<Entry> entries = new ArrayList<>();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.trim().split("\\s+");
                if (parts.length != 3 || !parts[1].matches("[0-9a-f]{64}") || !parts[2].matches("[0-9]+")) {
                    throw new IOException("malformed line " + lineNo + " in resource " + dir + "index.txt: '" + line + "'");
                }
                entries.add(new Entry(parts[0], parts[1], Long.parseLong(parts[2])));
            }
            if (entries.isEmpty()) {
                throw new IOException("resource " + dir + "index.txt lists no libraries");
            }
            return new BundledLibraries(platform, dir, List.copyOf(entries));
        }
    }

    List<Entry> entries() {
        return entries;
    }

    /** The name of this set's cache directory: platform plus a prefix of the index hash. */
    String directoryName() {
        MessageDigest digest = sha256();
        for (Entry e : entries) {
            digest.update((e.name() + ' ' + e.sha256() + ' ' + e.size() + '\n').getBytes(StandardCharsets.UTF_8));
        }
        return "onednn-" + platform.id() + "-" + HexFormat.of().formatHex(digest.digest()).substring(0, 16);
    }

    /**
     * Makes sure every library is present and complete under {@code root/directoryName()} and
     * returns that directory. A file of the right size under its final name is complete (it only
     * ever appears there by an atomic rename of a verified file); anything else is rewritten.
     */
    Path extractTo(Path root) throws IOException {
        Path dir = root.resolve(directoryName());
        Files.createDirectories(dir);
        for (Entry entry : entries) {
            Path target = dir.resolve(entry.name());
            if (Files.isRegularFile(target) && Files.size(target) == entry.size()) {
                continue;
            }
            extractOne(entry, target);
        }
        return dir;
    }

    private void extractOne(Entry entry, Path target) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), entry.name() + ".", ".part");
        try {
            MessageDigest digest = sha256();
            String resource = resourceDir + entry.name();
            try (InputStream raw = BundledLibraries.class.getResourceAsStream(resource)) {
                if (raw == null) {
                    throw new IOException("resource " + resource + " is listed in index.txt but missing from the jar");
                }
                try (InputStream in = new DigestInputStream(raw, digest);
                     OutputStream out = Files.newOutputStream(tmp)) {
                    in.transferTo(out);
                }
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            if (!actual.equals(entry.sha256())) {
                throw new IOException("resource " + resource + " has SHA-256 " + actual + " but index.txt says "
                        + entry.sha256() + ": the deepnet-native jar is corrupt; rebuild or re-download it");
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + target.getParent()
                        + " cannot rename atomically; choose another cache with -D" + OneDnnLibrary.CACHE_PROPERTY, e);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK provides SHA-256", e);
        }
    }
}
