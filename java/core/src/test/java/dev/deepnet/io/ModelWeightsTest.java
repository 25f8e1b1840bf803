package dev.deepnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Parameter;
import dev.deepnet.nn.Relu;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelWeightsTest {

    static Model net(long seed) {
        return Model.sequential(Shape.of(1, 6, 6), seed, new Conv2d(1, 2, 3, 1, 0), new Relu(), new Flatten(), new Dense(32, 3));
    }

    static List<float[]> values(Model m) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : m.parameters()) {
            out.add(p.value().toArray());
        }
        return out;
    }

    static void assertSameValues(List<float[]> expected, Model m) {
        List<float[]> actual = values(m);
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "parameter " + i);
        }
    }

    @Test
    void saveThenLoadRestoresEveryParameterUnderPyTorchStyleNames(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("net.safetensors");
        try (Model a = net(1); Model b = net(2)) {
            ModelWeights.save(a, file, Map.of("epoch", "3"));
            try (SafeTensorsFile f = SafeTensors.read(file)) {
                assertEquals(List.of("conv1.weight", "conv1.bias", "dense1.weight", "dense1.bias"), f.names());
                assertEquals(Shape.of(2, 1, 3, 3), f.shape("conv1.weight"));
                assertEquals(Shape.of(3, 32), f.shape("dense1.weight"));
            }
            Map<String, String> meta = ModelWeights.load(b, file);
            assertEquals("3", meta.get("epoch"));
            assertSameValues(values(a), b);
        }
    }

    @Test
    void aFileWrittenLikePyTorchsSaveFileLoads(@TempDir Path dir) throws IOException {
        // What safetensors.torch.save_file(state_dict) produces for this net: same names, (out, in[, kH, kW]) layouts.
        Path file = dir.resolve("torch.safetensors");
        try (Model m = net(1)) {
            Map<String, Tensor> state = new LinkedHashMap<>();
            float v = 0;
            for (Map.Entry<String, Parameter> e : ModelWeights.named(m).entrySet()) {
                float[] data = new float[(int) e.getValue().shape().size()];
                for (int i = 0; i < data.length; i++) {
                    data[i] = v++;
                }
                state.put(e.getKey(), Tensor.of(e.getValue().shape(), data));
            }
            SafeTensors.write(file, state, Map.of("format", "pt"));
            ModelWeights.load(m, file);
            assertEquals(0f, m.parameters().get(0).value().getFlat(0));
            assertEquals(18f, m.parameters().get(1).value().getFlat(0), "conv1.bias follows conv1.weight's 18 values");
            state.values().forEach(Tensor::close);
        }
    }

    @Test
    void aMismatchedFileIsRejectedAndTheModelIsUntouched(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("other.safetensors");
        try (Model other = Model.sequential(Shape.of(1, 6, 6), 1, new Conv2d(1, 4, 3, 1, 0), new Relu(), new Flatten(),
                new Dense(64, 3)); Model m = net(7)) {
            ModelWeights.save(other, file, Map.of());
            List<float[]> before = values(m);
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelWeights.load(m, file));
            assertTrue(e.getMessage().contains("conv1.weight") && e.getMessage().contains("[4, 1, 3, 3]")
                    && e.getMessage().contains("nothing was loaded"), e.getMessage());
            assertSameValues(before, m);
        }
    }

    @Test
    void corruptOrTruncatedFilesAreRejectedAndTheModelIsUntouched(@TempDir Path dir) throws IOException {
        Path good = dir.resolve("good.safetensors");
        try (Model source = net(1); Model m = net(9)) {
            ModelWeights.save(source, good, Map.of());
            byte[] bytes = Files.readAllBytes(good);
            List<float[]> before = values(m);
            for (int cut : new int[] {0, 4, 8, 20, bytes.length / 2, bytes.length - 1}) {
                Path truncated = dir.resolve("cut" + cut);
                Files.write(truncated, java.util.Arrays.copyOf(bytes, cut));
                assertThrows(SafeTensorsException.class, () -> ModelWeights.load(m, truncated), "cut at " + cut);
                assertSameValues(before, m);
            }
            byte[] corrupt = bytes.clone();
            corrupt[10] = '!'; // inside the JSON header
            Path bad = Files.write(dir.resolve("corrupt"), corrupt);
            assertThrows(SafeTensorsException.class, () -> ModelWeights.load(m, bad));
            assertSameValues(before, m);
        }
    }
}
