package dev.deepnet.dnnl.generator;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Generates the raw FFM bindings of oneDNN's C API from its headers.
 *
 * <p>jextract is not available on our machines, so this does its job for the subset of C that
 * oneDNN's C API uses: gcc's preprocessor ({@code gcc -E -dD}) resolves includes and configuration
 * and keeps each {@code #define} in place; {@link HeaderParser} reads typedefs, enums, structs and
 * every function declared {@code DNNL_API} (defining {@code DNNL_DLL} makes that expand to a
 * visibility attribute we can see); a second preprocessor pass expands each macro so its value
 * can be evaluated; {@link JavaEmitter} writes the classes. Output depends only on the headers.
 *
 * <p>Usage: {@code BindingsGenerator <include-dir> <java-source-root>} (see scripts/generate-bindings).
 */
public final class BindingsGenerator {

    private static final String ENTRY_HEADER = "oneapi/dnnl/dnnl.h";
    private static final String EXPAND_MARK = "__deepnet_expand__";

    private BindingsGenerator() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: BindingsGenerator <onednn-include-dir> <java-source-root>");
            System.exit(2);
        }
        Path include = Path.of(args[0]);
        Path packageDir = Path.of(args[1]).resolve(JavaEmitter.PACKAGE.replace('.', '/'));
        Map<String, String> files = generate(include);
        Files.createDirectories(packageDir);
        try (Stream<Path> old = Files.list(packageDir)) {
            for (Path p : old.toList()) {
                if (p.toString().endsWith(".java") && !files.containsKey(p.getFileName().toString())) {
                    Files.delete(p);
                }
            }
        }
        for (Map.Entry<String, String> e : files.entrySet()) {
            Files.writeString(packageDir.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
        }
        HeaderModel model = model(include);
        System.out.printf("wrote %d files to %s: %d functions, %d constants, %d structs, %d macros skipped%n",
                files.size(), packageDir, model.functions().size(), model.constants().size(), model.structs().size(),
                model.skippedMacros().size());
    }

    /** The generated sources (file name to content) for the headers under {@code include}. */
    public static Map<String, String> generate(Path include) throws IOException, InterruptedException {
        HeaderModel model = model(include);
        return new JavaEmitter(model, origin(model)).emit();
    }

    /** The parsed C API of the headers under {@code include}. */
    public static HeaderModel model(Path include) throws IOException, InterruptedException {
        String preprocessed = preprocess(include, "#include \"" + ENTRY_HEADER + "\"\n");
        List<String> ignored = new ArrayList<>();
        List<HeaderParser.MacroDefinition> macros = HeaderParser.macroDefinitions(preprocessed, ignored);
        return HeaderParser.parse(preprocessed, expand(include, macros));
    }

    private static String origin(HeaderModel model) {
        long major = constant(model, "DNNL_VERSION_MAJOR");
        long minor = constant(model, "DNNL_VERSION_MINOR");
        long patch = constant(model, "DNNL_VERSION_PATCH");
        return "oneDNN " + major + "." + minor + "." + patch + " headers (" + ENTRY_HEADER + " and what it includes)";
    }

    private static long constant(HeaderModel model, String name) {
        return model.constants().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException(name + " not found in the headers")).value();
    }

    /** Expands every macro with the preprocessor, so its value can be evaluated from plain tokens. */
    private static Map<String, String> expand(Path include, List<HeaderParser.MacroDefinition> macros)
            throws IOException, InterruptedException {
        StringBuilder probe = new StringBuilder("#include \"" + ENTRY_HEADER + "\"\n");
        for (HeaderParser.MacroDefinition m : macros) {
            probe.append(EXPAND_MARK).append(" \"").append(m.name()).append("\" ").append(m.name()).append('\n');
        }
        // gcc may break an expansion over several lines, with line markers between, when the
        // macro comes from a system header (INT64_MIN): join everything after the first mark.
        StringBuilder joined = new StringBuilder();
        boolean started = false;
        for (String line : preprocess(include, probe.toString()).split("\n")) {
            started |= line.startsWith(EXPAND_MARK);
            if (started && !line.startsWith("#")) {
                joined.append(' ').append(line.trim());
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String item : joined.toString().split(EXPAND_MARK)) {
            String s = item.trim();
            if (s.startsWith("\"")) {
                int close = s.indexOf('"', 1);
                out.put(s.substring(1, close), s.substring(close + 1).trim());
            }
        }
        return out;
    }

    /** Runs {@code gcc -E -dD} over {@code source} with oneDNN's include directory. */
    static String preprocess(Path include, String source) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("deepnet-bindgen");
        try {
            Path input = dir.resolve("input.c");
            Files.writeString(input, source, StandardCharsets.UTF_8);
            Path out = dir.resolve("output.i");
            Process p = new ProcessBuilder("gcc", "-E", "-dD", "-DDNNL_DLL", "-I", include.toAbsolutePath().toString(),
                    input.toString(), "-o", out.toString())
                    .redirectErrorStream(true)
                    .start();
            String log;
            try (InputStream in = p.getInputStream()) {
                log = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("gcc -E failed on the oneDNN headers in " + include + ":\n" + log);
            }
            // Paths in line markers would tie the output to where the headers were unpacked; only
            // the part from "oneapi/dnnl/" on is used, so the rest does not matter.
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }
}
