package dev.deepnet.lab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** The packaged command line, run the way scripts/deepnet runs it: {@code java -jar deepnet.jar}. */
class DeepnetJarIT {

    private static final Path JAR = Path.of("target/deepnet.jar");

    @Test
    void theManifestGrantsNativeAccess() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "package the module first: " + JAR.toAbsolutePath());
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertEquals("ALL-UNNAMED", jar.getManifest().getMainAttributes().getValue("Enable-Native-Access"));
            assertEquals(DeepnetCommand.class.getName(), jar.getManifest().getMainAttributes().getValue("Main-Class"));
        }
    }

    /** The README promises JDK 22+: every deepnet class file is Java 22's (major version 66), none newer. */
    @Test
    void deepnetsClassFilesAreJava22s() throws Exception {
        int classes = 0;
        try (JarFile jar = new JarFile(JAR.toFile())) {
            for (JarEntry e : java.util.Collections.list(jar.entries())) {
                if (e.getName().startsWith("dev/deepnet/") && e.getName().endsWith(".class")) {
                    try (DataInputStream in = new DataInputStream(jar.getInputStream(e))) {
                        assertEquals(0xCAFEBABE, in.readInt(), e.getName());
                        in.readUnsignedShort(); // minor
                        assertEquals(66, in.readUnsignedShort(), e.getName());
                    }
                    classes++;
                }
            }
        }
        assertTrue(classes > 100, "deepnet's classes are in the jar: " + classes);
    }

    @Test
    void javaDashJarInfoRunsWithoutFlagsOrWarnings() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-jar", JAR.toString(), "info").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out");
        assertEquals(0, p.exitValue(), out + err);
        assertTrue(out.contains("oneDNN      3.8.1"), out);
        assertTrue(out.contains(": ok"), out);
        assertFalse(err.contains("restricted method"), "the manifest should grant native access: " + err);
    }
}
