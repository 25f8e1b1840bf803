package dev.deepnet.dnnl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.deepnet.dnnl.generator.BindingsGenerator;
import dev.deepnet.nativelib.OneDnnLibrary;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated bindings against the headers they come from: regenerating gives the committed
 * files; every DNNL_API function, enumerator and DNNL_ARG_* macro is bound; and a C program
 * compiled against the same headers agrees with every constant value and struct layout.
 */
class GeneratedBindingsTest {

    private static final Path GENERATED = Path.of("src/main/java/dev/deepnet/dnnl/internal");

    static Path include() {
        String dir = System.getProperty("deepnet.onednn.include");
        if (dir == null || !Files.isDirectory(Path.of(dir, "oneapi", "dnnl"))) {
            fail("the oneDNN headers are not unpacked (system property deepnet.onednn.include = " + dir
                    + "); run the tests through Maven, which unpacks them in generate-test-resources");
        }
        return Path.of(dir);
    }

    @Test
    void committedBindingsMatchTheHeaders() throws Exception {
        Map<String, String> fresh = BindingsGenerator.generate(include());
        Set<String> committed;
        try (Stream<Path> files = Files.list(GENERATED)) {
            committed = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(new TreeSet<>(fresh.keySet()), committed,
                "generated file set differs from " + GENERATED + "; run scripts/generate-bindings");
        for (Map.Entry<String, String> e : fresh.entrySet()) {
            String onDisk = Files.readString(GENERATED.resolve(e.getKey()), StandardCharsets.UTF_8);
            if (!onDisk.equals(e.getValue())) {
                fail(e.getKey() + " drifted from the headers (first difference at line "
                        + firstDifferentLine(onDisk, e.getValue()) + "); run scripts/generate-bindings");
            }
        }
    }

    @Test
    void generationIsDeterministic() throws Exception {
        assertEquals(BindingsGenerator.generate(include()), BindingsGenerator.generate(include()));
    }

    private static int firstDifferentLine(String a, String b) {
        String[] x = a.split("\n", -1);
        String[] y = b.split("\n", -1);
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            if (!x[i].equals(y[i])) {
                return i + 1;
            }
        }
        return Math.min(x.length, y.length) + 1;
    }

    /**
     * A header's text without the blocks that this build's dnnl_config.h switches off
     * ({@code #ifdef DNNL_EXPERIMENTAL_SPARSE} and the like, left as {@code #undef} there): the
     * bindings bind what the configured headers declare, and the library exports no C symbol for
     * most of what those blocks declare. Other conditionals (include guards) are kept.
     */
    static String configuredText(String header) throws Exception {
        String config = Files.readString(include().resolve("oneapi/dnnl/dnnl_config.h"));
        Set<String> undefined = new TreeSet<>();
        Matcher u = Pattern.compile("/\\* #undef (\\w+) \\*/").matcher(config);
        while (u.find()) {
            undefined.add(u.group(1));
        }
        StringBuilder out = new StringBuilder();
        // One entry per open conditional: whether its current branch is kept. Only conditionals on a
        // switched-off macro are decided; the branches of any other are all kept.
        List<Boolean> kept = new ArrayList<>();
        List<Boolean> decided = new ArrayList<>();
        for (String line : Files.readString(include().resolve("oneapi/dnnl").resolve(header)).split("\n")) {
            String t = line.trim();
            if (t.startsWith("#if")) {
                String[] words = t.split("\\s+");
                boolean onOff = words.length == 2 && undefined.contains(words[1])
                        && (words[0].equals("#ifdef") || words[0].equals("#ifndef"));
                decided.add(onOff);
                kept.add(!onOff || words[0].equals("#ifndef"));
                continue;
            }
            if (t.startsWith("#else") && !kept.isEmpty()) {
                int last = kept.size() - 1;
                if (decided.get(last)) {
                    kept.set(last, !kept.get(last));
                }
                continue;
            }
            if (t.startsWith("#endif") && !kept.isEmpty()) {
                kept.remove(kept.size() - 1);
                decided.remove(decided.size() - 1);
                continue;
            }
            if (!kept.contains(false)) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    /** Names read from the header text with regular expressions: independent of the generator's parser. */
    private static Set<String> apiFunctionsDeclaredIn(String... headers) throws Exception {
        Pattern declaration = Pattern.compile("DNNL_API\\s+(\\w+)\\s*\\(");
        Set<String> names = new LinkedHashSet<>();
        for (String h : headers) {
            Matcher m = declaration.matcher(configuredText(h));
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    @Test
    void everyApiFunctionOfDnnlHAndDnnlCommonHIsBoundAndExported() throws Exception {
        Set<String> declared = apiFunctionsDeclaredIn("dnnl.h", "dnnl_common.h");
        assertTrue(declared.size() >= 150, "expected about 160 DNNL_API functions, found " + declared.size());
        Set<String> bound = Arrays.stream(dnnl_h.class.getDeclaredMethods())
                .filter(m -> Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()))
                .map(Method::getName).collect(Collectors.toSet());
        List<String> unbound = declared.stream().filter(n -> !bound.contains(n)).toList();
        assertEquals(List.of(), unbound, "DNNL_API functions without a binding");
        List<String> missingSymbols = declared.stream()
                .filter(n -> OneDnnLibrary.symbols().find(n).isEmpty()).toList();
        assertEquals(List.of(), missingSymbols, "bound functions the loaded libdnnl does not export");
    }

    @Test
    void everyEnumeratorAndArgumentMacroIsBound() throws Exception {
        Pattern enumerator = Pattern.compile("^\\s+(dnnl_\\w+)\\s*(=[^,]*)?,?\\s*(///.*)?$", Pattern.MULTILINE);
        Pattern define = Pattern.compile("^#define\\s+(DNNL_ARG_\\w+)\\s", Pattern.MULTILINE);
        Set<String> expected = new TreeSet<>();
        for (String h : List.of("dnnl_types.h", "dnnl_common_types.h")) {
            String text = configuredText(h);
            Matcher m = enumerator.matcher(text);
            while (m.find()) {
                expected.add(m.group(1));
            }
            Matcher d = define.matcher(text);
            while (d.find()) {
                expected.add(d.group(1));
            }
        }
        assertTrue(expected.size() > 1000, "expected over a thousand constants, found " + expected.size());
        Set<String> bound = constants().keySet();
        List<String> unbound = expected.stream().filter(n -> !bound.contains(n)).toList();
        assertEquals(List.of(), unbound, "constants of the headers without a binding");
    }

    /** Every public static final int or long of dnnl_h, by name. */
    static Map<String, Field> constants() {
        Map<String, Field> out = new LinkedHashMap<>();
        for (Field f : dnnl_h.class.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (Modifier.isPublic(mod) && Modifier.isStatic(mod) && Modifier.isFinal(mod)
                    && (f.getType() == int.class || f.getType() == long.class)) {
                out.put(f.getName(), f);
            }
        }
        return out;
    }

    @Test
    void aCProbeCompiledAgainstTheSameHeadersAgreesOnEveryConstantAndStructLayout(@TempDir Path dir) throws Exception {
        Map<String, Field> constants = constants();
        List<Class<?>> structs = List.of(dnnl_version_t.class, dnnl_exec_arg_t.class);
        try (Stream<Path> files = Files.list(GENERATED)) {
            assertEquals(structs.size() + 1, files.count(), "a struct class was added: list it here");
        }

        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include \"oneapi/dnnl/dnnl.h\"\nint main(void) {\n");
        Map<String, Long> javaSide = new LinkedHashMap<>();
        for (Field f : constants.values()) {
            String name = f.getName();
            if (f.getType() == int.class) {
                c.append("    printf(\"").append(name).append(" %lld\\n\", (long long)(int)(").append(name).append("));\n");
                javaSide.put(name, (long) f.getInt(null));
            } else {
                c.append("    printf(\"").append(name).append(" %lld\\n\", (long long)(").append(name).append("));\n");
                javaSide.put(name, f.getLong(null));
            }
        }
        for (Class<?> s : structs) {
            GroupLayout layout = (GroupLayout) s.getField("LAYOUT").get(null);
            String name = s.getSimpleName();
            c.append("    printf(\"sizeof(").append(name).append(") %lld\\n\", (long long)sizeof(").append(name).append("));\n");
            javaSide.put("sizeof(" + name + ")", layout.byteSize());
            c.append("    printf(\"_Alignof(").append(name).append(") %lld\\n\", (long long)_Alignof(").append(name).append("));\n");
            javaSide.put("_Alignof(" + name + ")", layout.byteAlignment());
            for (MemoryLayout member : layout.memberLayouts()) {
                if (member.name().isEmpty()) {
                    continue; // padding
                }
                String field = member.name().get();
                String key = "offsetof(" + name + "," + field + ")";
                c.append("    printf(\"").append(key).append(" %lld\\n\", (long long)offsetof(").append(name).append(", ")
                        .append(field).append("));\n");
                javaSide.put(key, layout.byteOffset(MemoryLayout.PathElement.groupElement(field)));
                String sizeKey = "sizeof(" + name + "." + field + ")";
                c.append("    printf(\"").append(sizeKey).append(" %lld\\n\", (long long)sizeof(((").append(name)
                        .append(" *)0)->").append(field).append("));\n");
                javaSide.put(sizeKey, member.byteSize());
            }
        }
        c.append("    return 0;\n}\n");

        Path source = Files.writeString(dir.resolve("probe.c"), c.toString());
        Path binary = dir.resolve("probe");
        run(List.of("gcc", "-std=c11", "-Wall", "-Werror", "-I", include().toString(), source.toString(), "-o", binary.toString()));
        Map<String, Long> cSide = new LinkedHashMap<>();
        for (String line : run(List.of(binary.toString())).split("\n")) {
            int space = line.lastIndexOf(' ');
            cSide.put(line.substring(0, space), Long.parseLong(line.substring(space + 1)));
        }
        assertEquals(javaSide.size(), cSide.size(), "the probe printed a different number of values");
        List<String> mismatches = new ArrayList<>();
        javaSide.forEach((k, v) -> {
            if (!v.equals(cSide.get(k))) {
                mismatches.add(k + ": Java " + v + ", C " + cSide.get(k));
            }
        });
        assertEquals(List.of(), mismatches);
        assertTrue(constants.size() > 2000, "bound constants: " + constants.size());
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + out);
        return out;
    }
}
