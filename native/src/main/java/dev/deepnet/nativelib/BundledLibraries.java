package dev.deepnet.nativelib;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The shared libraries packaged as resources of deepnet-native for one platform, and their
 * verified extraction into a cache directory.
 *
 * <p>The build writes {@code index.txt} beside the libraries: one line per library, in load
 * order, with its SHA-256 and size. The cache directory is named by a hash of that index, so a
 * different build of the libraries never reuses another's files.
 *
 * <p>A cached file is trusted only after its SHA-256 matches the index: {@link #extractTo} hashes
 * every cached library, once per call (the loader calls it once per JVM), before anything loads
 * it. Size alone proves nothing: a same-size corrupted {@code libdnnl.so.3} used to crash the JVM
 * (SIGILL) or fail dlopen in every JVM, forever. Hashing the whole set (about 93 MB) in a fresh
 * JVM costs about 130 ms on an idle 2-core AVX2/SHA-NI development machine, and {@code extractTo}
 * over a complete cache took 160–300 ms where the old size check took 20–45 ms, with four other
 * builds sharing the cores (System.nanoTime around one call in a fresh JVM, page cache warm).
 * A "verified" marker keyed by path, size, mtime and inode would be cheaper but is not sound: an
 * in-place patch can keep all four. A CRC32C of every file would be faster but would only catch
 * accidents and need a second index; at this cost the SHA-256 the build records is the check.
 *
 * <p>A file that does not match is re-extracted: written to a temporary file in the same
 * directory, that file read back and hashed, and only then renamed atomically onto the final
 * name. Every writer therefore only ever puts complete, verified files under a final name. A JVM
 * that verifies a file and then loads the same path thus loads either the bytes it hashed or
 * another writer's verified copy of the same bytes; it never sees a half-written library, even
 * while several JVMs (Spark executors, parallel test forks) verify and repair at once.
 */
final class BundledLibraries {

    /** One bundled library: its file name, content hash and size in bytes. */
    record Entry(String name, String sha256, long size) {}

    /**
     * A temporary file older than this was left by a JVM that died while extracting: an
     * extraction takes about a second, and its file is written to (so its mtime moves) until the
     * rename. Deleting a live one is still safe: its writer's rename then fails, and nothing loads.
     */
    static final Duration STALE_TEMPORARY_FILE_AGE = Duration.ofHours(1);

    private static final String TEMPORARY_SUFFIX = ".part";
    private static final System.Logger LOG = System.getLogger(OneDnnLibrary.class.getName());

    private final Platform platform;
    private final String resourceDir;
    private final List<Entry> entries;

    BundledLibraries(Platform platform, String resourceDir, List<Entry> entries) {
        this.platform = platform;
        this.resourceDir = resourceDir;
        this.entries = List.copyOf(entries);
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
            return new BundledLibraries(platform, dir, entries);
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
     * Makes sure every library under {@code root/directoryName()} has the SHA-256 and size the
     * index records, re-extracting each one that does not, and returns that directory. Also
     * deletes temporary files left there by JVMs that died while extracting.
     *
     * @throws IOException when a library is wrong and cannot be re-extracted there; the message
     *     names the file, what is wrong with it (for a same-size file: the expected and actual
     *     SHA-256) and why the repair failed
     */
    Path extractTo(Path root) throws IOException {
        Path dir = root.resolve(directoryName());
        Files.createDirectories(dir);
        deleteStaleTemporaryFiles(dir);
        for (Entry entry : entries) {
            Path target = dir.resolve(entry.name());
            String problem = mismatch(entry, target);
            if (problem == null) {
                continue;
            }
            try {
                extractOne(entry, target);
            } catch (IOException e) {
                throw new IOException(target + " " + problem + "; re-extracting it failed: " + reason(e), e);
            }
        }
        return dir;
    }

    /**
     * Extracts every library into a new private directory under {@code parent} that no other
     * process writes to: the last resort when no cache directory can be used. The directory and
     * files are deleted when the JVM exits (a loaded library may be unlinked on Linux).
     */
    Path extractToFreshDirectory(Path parent) throws IOException {
        // createTempDirectory makes it rwx------ on POSIX: no other user can plant a file in it.
        Path dir = Files.createTempDirectory(parent, "deepnet-" + directoryName() + "-");
        dir.toFile().deleteOnExit(); // registered first, so deleted last, once empty
        for (Entry entry : entries) {
            Path target = dir.resolve(entry.name());
            target.toFile().deleteOnExit();
            extractOne(entry, target);
        }
        return dir;
    }

    /**
     * Why {@code file} is not {@code entry}'s library, or null when its size and SHA-256 match.
     * Reads the whole file: the cost the class comment measures.
     */
    static String mismatch(Entry entry, Path file) throws IOException {
        if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            return "is a directory";
        }
        if (!Files.exists(file)) {
            return "is missing";
        }
        if (!Files.isRegularFile(file)) {
            return "is not a regular file";
        }
        long size = Files.size(file);
        if (size != entry.size()) {
            return "has " + size + " bytes, expected " + entry.size();
        }
        String actual = sha256Of(file);
        if (!actual.equals(entry.sha256())) {
            return "has SHA-256 " + actual + ", expected " + entry.sha256() + " (recorded in deepnet-native at build time)";
        }
        return null;
    }

    private void extractOne(Entry entry, Path target) throws IOException {
        Path dir = target.getParent();
        Path tmp = Files.createTempFile(dir, entry.name() + ".", TEMPORARY_SUFFIX);
        try {
            String resource = resourceDir + entry.name();
            try (InputStream in = BundledLibraries.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IOException("resource " + resource + " is listed in index.txt but missing from the jar");
                }
                try (OutputStream out = Files.newOutputStream(tmp)) {
                    in.transferTo(out);
                }
            }
            // Hash what the file system now serves for the temporary file, not the bytes handed to
            // it: that is what dlopen will map, and only a verified file may get a final name.
            String problem = mismatch(entry, tmp);
            if (problem != null) {
                throw new IOException("resource " + resource + " extracted to " + tmp + " " + problem
                        + ": the deepnet-native jar is corrupt (rebuild or re-download it) or the disk is failing");
            }
            if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                // rename(2) cannot replace a directory with a file. An empty one holds nothing and
                // may go; a non-empty one is not ours to delete, and the rename below then fails.
                try {
                    Files.deleteIfExists(target);
                } catch (DirectoryNotEmptyException e) {
                    throw new IOException(target + " is a directory that is not empty; deepnet deletes only what it wrote", e);
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + dir
                        + " cannot rename atomically; choose another cache with -D" + OneDnnLibrary.CACHE_PROPERTY, e);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Deletes {@code <library>.*.part} files in {@code dir} older than {@link
     * #STALE_TEMPORARY_FILE_AGE}: each is up to 93 MB, and a JVM killed mid-extraction never
     * removes its own. Failures are ignored on purpose: a leftover file harms nothing but space.
     */
    private void deleteStaleTemporaryFiles(Path dir) throws IOException {
        FileTime cutoff = FileTime.from(Instant.now().minus(STALE_TEMPORARY_FILE_AGE));
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + TEMPORARY_SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                boolean ours = entries.stream().anyMatch(e -> name.startsWith(e.name() + "."));
                if (!ours || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try {
                    if (Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).compareTo(cutoff) < 0) {
                        Files.deleteIfExists(file);
                    }
                } catch (IOException e) {
                    // Another JVM deleted it first, or the directory is read-only: the file is
                    // never loaded, so this costs only disk space and is not worth a failure.
                    LOG.log(System.Logger.Level.DEBUG, "cannot delete stale temporary file " + file + ": " + e);
                }
            }
        }
    }

    /**
     * An exception as one line for a list of attempts: the message alone for the plain
     * IOExceptions this class writes, with the type for the JDK's (whose message is often just a
     * path, as in {@code AccessDeniedException: /the/path}).
     */
    static String reason(Throwable e) {
        return e.getClass() == IOException.class && e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /** The SHA-256 of a file's content, as lower-case hex. */
    static String sha256Of(Path file) throws IOException {
        MessageDigest digest = sha256();
        // 1 MiB reads: fewer, larger digest updates reach the SHA intrinsic sooner in a cold JVM
        // (64 KiB reads measured about 200 ms for libdnnl, 1 MiB about 130 ms).
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK provides SHA-256", e);
        }
    }
}
