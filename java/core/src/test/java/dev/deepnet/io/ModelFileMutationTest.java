package dev.deepnet.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.deepnet.io.HandBuilt.Spec;
import dev.deepnet.nn.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of small valid model files — bytes changed anywhere, the file cut short, JSON
 * values inside the architecture replaced by others or by hostile ones — must each either load or
 * fail with a {@link SafeTensorsException} that no unexpected exception caused. Anything else fails
 * the test naming the seed and the mutation, so that one case can be replayed alone.
 */
class ModelFileMutationTest {

    static final long SEED = 0x5EED_12L;
    static final int MUTATIONS = 2000;

    /** A file to mutate: its architecture, the tensors that architecture needs, and its bytes. */
    record Base(String name, String architecture, Map<String, Spec> tensors, byte[] bytes) {}

    /**
     * One JSON value of an architecture: a string (keys too), a number, a literal, or an array
     * of plain values. Found with a pattern, not the parser under test.
     */
    static final Pattern VALUE = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?|true|false|null"
            + "|\\[[^\\[\\]{}]*\\]");

    /** Values a hostile file might hold where the architecture expects something else. */
    static final List<String> HOSTILE = List.of("-1", "0", "1", "2", "-0", "0.0", "1.5", "2147483647", "2147483648", "4294967297",
            "99999999999999999999", "-99999999999999999999", "1e999", "1e-999", "-1e308", "true", "false", "null", "\"\"",
            "\"x\"", "\"conv\"", "\"dense\"", "\"add\"", "\"concat\"", "\"relu\"", "\"flatten\"", "\"in\"", "\"inputs\"",
            "[]", "[0]", "[3]", "[-1]", "[0, 0]", "[1, 1, 1, 1]", "[2147483647, 2147483647]", "[[1]]", "{}", "[\"a\"]",
            "[1, 100000, 100000]", "\"\\u0000\"", "\"a b\"");

    @Test
    void everyMutationLoadsOrFailsWithTheTypedException(@TempDir Path dir) throws IOException {
        List<Base> bases = List.of(handBuilt(), saved(dir));
        Path file = dir.resolve("mutant.safetensors");
        int loaded = 0;
        int refusedArchitecture = 0;
        int refused = 0;
        for (int i = 0; i < MUTATIONS; i++) {
            long seed = SEED + i;
            SplittableRandom random = new SplittableRandom(seed);
            Base base = bases.get(random.nextInt(bases.size()));
            StringBuilder mutation = new StringBuilder(base.name + ": ");
            byte[] mutant = mutate(base, random, mutation);
            Files.write(file, mutant);
            try (Model m = ModelFile.load(file)) {
                loaded++;
                assertTrue(m.layers().size() > 0);
            } catch (SafeTensorsException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    fail("seed " + seed + ", " + mutation + ": an unexpected exception was wrapped", r);
                }
                refused++;
                if (e.getMessage().contains("its architecture is invalid")) {
                    refusedArchitecture++;
                }
            } catch (Throwable t) {
                fail("seed " + seed + ", " + mutation + ": neither a load nor a SafeTensorsException", t);
            }
        }
        // The loop is worth something only if it reaches every stage: files that load, and files
        // whose header is sound but whose architecture is not.
        assertTrue(loaded >= 20, "only " + loaded + " of " + MUTATIONS + " mutants loaded");
        assertTrue(refusedArchitecture >= 300, "only " + refusedArchitecture + " mutants reached the architecture checks");
        assertTrue(refused >= MUTATIONS / 2, "only " + refused + " mutants were refused");
    }

    static Base handBuilt() {
        String architecture = ModelFileValidationTest.ARCHITECTURE;
        Map<String, Spec> tensors = ModelFileValidationTest.tensors();
        return new Base("hand-built", architecture, tensors, encode(architecture, tensors));
    }

    /** A file as ModelFile.save writes it, for every layer type. */
    static Base saved(Path dir) throws IOException {
        Path file = dir.resolve("every-layer.safetensors");
        Map<String, Spec> tensors = new LinkedHashMap<>();
        String architecture;
        try (Model m = ModelFileTest.everyLayer()) {
            ModelFile.save(m, file);
            architecture = ModelFile.architecture(m);
            ModelWeights.named(m).forEach((name, p) -> tensors.put(name, Spec.f32(p.shape().dims())));
        }
        return new Base("saved", architecture, tensors, Files.readAllBytes(file));
    }

    static byte[] encode(String architecture, Map<String, Spec> tensors) {
        return HandBuilt.tensors(Map.of(ModelFile.ARCHITECTURE_KEY, architecture), tensors);
    }

    /** One mutation of {@code base}, described into {@code what}. */
    static byte[] mutate(Base base, SplittableRandom random, StringBuilder what) {
        byte[] bytes = base.bytes;
        int kind = random.nextInt(10);
        if (kind < 2) { // any bytes: header length, header JSON, tensor data
            byte[] b = bytes.clone();
            int n = 1 + random.nextInt(4);
            for (int k = 0; k < n; k++) {
                int at = random.nextInt(b.length);
                b[at] = (byte) random.nextInt(256);
                what.append(String.format("byte %d = 0x%02X; ", at, b[at] & 0xff));
            }
            return b;
        }
        if (kind < 4) { // bytes of the header only, where the architecture is: more of them reach the JSON
            byte[] b = bytes.clone();
            int headerEnd = (int) Math.min(b.length, 8 + (b[0] & 0xffL) + ((b[1] & 0xffL) << 8) + ((b[2] & 0xffL) << 16));
            int at = 8 + random.nextInt(headerEnd - 8);
            byte[] printable = " \"\\,:[]{}-0123456789.eE+azAZ_".getBytes();
            b[at] = printable[random.nextInt(printable.length)];
            what.append(String.format("header byte %d = '%c'", at, (char) b[at]));
            return b;
        }
        if (kind == 4) {
            int length = random.nextInt(bytes.length);
            what.append("cut to ").append(length).append(" of ").append(bytes.length).append(" bytes");
            return Arrays.copyOf(bytes, length);
        }
        // JSON values of the architecture replaced, once or twice: by another of its values, or by a hostile one.
        String architecture = base.architecture;
        for (int swap = kind == 9 ? 2 : 1; swap > 0; swap--) {
            List<int[]> values = new ArrayList<>();
            Matcher m = VALUE.matcher(architecture);
            while (m.find()) {
                values.add(new int[] {m.start(), m.end()});
            }
            int[] target = values.get(random.nextInt(values.size()));
            String replacement;
            if (random.nextBoolean()) {
                int[] other = values.get(random.nextInt(values.size()));
                replacement = architecture.substring(other[0], other[1]);
            } else {
                replacement = HOSTILE.get(random.nextInt(HOSTILE.size()));
            }
            what.append("value at ").append(target[0]).append(" '").append(architecture, target[0], target[1]).append("' -> '")
                    .append(replacement).append("'; ");
            architecture = architecture.substring(0, target[0]) + replacement + architecture.substring(target[1]);
        }
        return encode(architecture, base.tensors);
    }
}
