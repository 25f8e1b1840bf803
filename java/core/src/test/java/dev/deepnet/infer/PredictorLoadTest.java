package dev.deepnet.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.io.ModelFile;
import dev.deepnet.io.SafeTensorsException;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.onnx.OnnxException;
import dev.deepnet.onnx.OnnxFile;
import dev.deepnet.tensor.Shape;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Predictor.load: a model file to a predictor that owns its model, knows its labels and its preprocessing. */
class PredictorLoadTest {

    static final List<String> LABELS = List.of("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt");

    static Model convnet() {
        return Model.sequential(Shape.of(1, 28, 28), 5, new Conv2d(1, 4, 5, 1, 2), new Relu(), new MaxPool2d(2, 2), new Flatten(),
                new Dense(4 * 14 * 14, LABELS.size()));
    }

    static Path png(Path dir, String name, BufferedImage img) throws IOException {
        Path file = dir.resolve(name);
        ImageIO.write(img, "png", file.toFile());
        return file;
    }

    static BufferedImage grey(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, (x * y) % 256);
            }
        }
        return img;
    }

    static BufferedImage colour(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(30, 160, 90));
        g.fillOval(w / 4, h / 4, w / 2, h / 2);
        g.dispose();
        return img;
    }

    /**
     * The README's service, as a user writes it: loads a model file, returns labelled top-5
     * classifications of an image. It must stay under 15 lines.
     */
    static final class LabellingService implements AutoCloseable {
        private final Predictor predictor;

        LabellingService(Path modelFile) throws IOException {
            predictor = Predictor.load(modelFile);                  // owns the model; thread-safe
        }

        List<ClassProbability> top5(Path image) throws IOException {
            return predictor.classify(image).top(5);                  // resized and converted as trained
        }

        @Override
        public void close() {
            predictor.close();
        }
    }

    @Test
    void theReadmeServiceReturnsLabelledTopFiveAndSaysHowTheImageWasConverted(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("fashion.safetensors");
        float[] expected;
        try (Model net = convnet(); Predictor oracle = new Predictor(net, 1)) {
            ModelFile.save(net, file, LABELS, ImagePreprocessing.grey(28, 28), Map.of());
            expected = SoftmaxOracle.of(oracle.predict(ImagePreprocessing.grey(28, 28).apply(colour(640, 480)).sample()));
        }
        Path image = png(dir, "photo.png", colour(640, 480));
        try (LabellingService service = new LabellingService(file)) {
            List<ClassProbability> top = service.top5(image);
            assertEquals(5, top.size());
            for (ClassProbability p : top) {
                assertEquals(LABELS.get(p.index()), p.label());
                assertEquals(expected[p.index()], p.probability(), 1e-5);
            }
            assertTrue(top.get(0).probability() >= top.get(4).probability());
            Classification c = service.predictor.classify(image);
            assertEquals(List.of("converted colour to grey", "resized 640x480 to 28x28 (shorter side to 28, centre crop)"),
                    c.conversions(), "the result says the image was converted");
            assertArrayEquals(c.probabilities(), service.predictor.classify(colour(640, 480)).probabilities(),
                    "a BufferedImage and its PNG give the same");
        }
    }

    @Test
    void aLoadedPredictorOwnsItsModelAndKnowsLabelsAndPreprocessing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        ImagePreprocessing refuse = ImagePreprocessing.grey(28, 28).withMismatch(ImagePreprocessing.Mismatch.REFUSE);
        try (Model net = convnet()) {
            ModelFile.save(net, file, LABELS, refuse, Map.of());
        }
        Model model;
        try (Predictor p = Predictor.load(file, b -> b.threads(1, 1).maxBatch(4))) {
            model = p.model();
            assertEquals(LABELS, p.labels());
            assertEquals(refuse, p.preprocessing().orElseThrow());
            assertEquals(1, p.maxWorkers());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.classify(colour(30, 28)));
            assertTrue(e.getMessage().contains("the image is 30x28 colour but the model takes 28x28 grey images"), e.getMessage());
            assertEquals(1, p.stats().errors(), "a refused image is an error");
            Path small = png(dir, "small.png", grey(28, 28));
            assertFalse(p.classify(small).converted());
        }
        assertFalse(model.lifetime().isAlive(), "closing the predictor closed its model");
    }

    @Test
    void filesWithoutPreprocessingGetTheDefaultsAndBadOnesAreRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path old = dir.resolve("old.safetensors");
        Path mlp = dir.resolve("mlp.safetensors");
        Path wrongLabels = dir.resolve("labels.safetensors");
        try (Model net = convnet(); Model vector = Model.sequential(Shape.of(16), 1, new Dense(16, 3))) {
            ModelFile.save(net, old); // as files were saved before the preprocessing was stored
            ModelFile.save(vector, mlp);
            ModelFile.save(net, wrongLabels, List.of("a", "b"), Map.of());
            assertThrows(IllegalArgumentException.class,
                    () -> ModelFile.save(net, dir.resolve("x.safetensors"), List.of(), ImagePreprocessing.grey(32, 32), Map.of()));
        }
        try (Predictor p = Predictor.load(old)) {
            assertEquals(ImagePreprocessing.grey(28, 28), p.preprocessing().orElseThrow());
            assertEquals("class 6", p.labels().get(6));
        }
        try (Predictor p = Predictor.load(mlp)) {
            assertTrue(p.preprocessing().isEmpty());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.classify(colour(8, 8)));
            assertTrue(e.getMessage().contains("no image preprocessing: its model takes samples (16)"), e.getMessage());
            assertEquals(3, p.classify(new float[16]).classes(), "floats still work");
        }
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> Predictor.load(wrongLabels));
        assertTrue(e.getMessage().contains("labels.safetensors") && e.getMessage().contains("names 2 classes but its model outputs 7"),
                e.getMessage());
        Path text = Files.writeString(dir.resolve("notes.safetensors"), "not a model");
        assertThrows(SafeTensorsException.class, () -> Predictor.load(text));
    }

    @Test
    void thePreprocessingMetadataRoundTripsAndIsReadStrictly(@TempDir Path dir) throws Exception {
        ImagePreprocessing p = ImagePreprocessing.imagenet(32).inverted(true).withMismatch(ImagePreprocessing.Mismatch.REFUSE);
        Path file = dir.resolve("rgb.safetensors");
        try (Model net = Model.sequential(Shape.of(3, 32, 32), 1, new Flatten(), new Dense(3 * 32 * 32, 2))) {
            ModelFile.save(net, file, List.of(), p, Map.of());
            assertEquals(p, ModelFile.preprocessing(file).orElseThrow());
            for (String bad : new String[] {"[]", "{\"channels\": 3}", "{\"channels\": 3, \"height\": 32, \"width\": 32, \"resize\": 36,"
                    + " \"mean\": [0, 0, 0], \"std\": [1, 1, 1], \"colour\": true}", "{\"channels\": 3, \"height\": 32, \"width\": 32,"
                    + " \"resize\": 36, \"mean\": [0, 0, 0], \"std\": [1, 1, 0]}", "{\"channels\": 1.5}"}) {
                Path f = dir.resolve("bad.safetensors");
                ModelFile.save(net, f, List.of(), Map.of(ModelFile.PREPROCESSING_KEY, bad));
                SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.preprocessing(f), bad);
                assertTrue(e.getMessage().contains("its image preprocessing (metadata 'deepnet.preprocessing') cannot be read"),
                        e.getMessage());
            }
        }
    }

    @Test
    void onnxFilesLoadWithLabelsAndPreprocessingFromTheirMetadataPropsOrDefaults(@TempDir Path dir) throws Exception {
        Path withMeta = dir.resolve("fashion.onnx");
        Path bare = dir.resolve("bare.ONNX");
        ImagePreprocessing refuse = ImagePreprocessing.grey(28, 28).withMismatch(ImagePreprocessing.Mismatch.REFUSE);
        float[] sample = ImagePreprocessing.grey(28, 28).apply(grey(28, 28)).sample();
        float[] expected;
        try (Model net = convnet(); Predictor oracle = new Predictor(net, 1)) {
            OnnxFile.save(net, withMeta, ModelFile.classifierMetadata(LABELS, refuse));
            OnnxFile.save(net, bare);
            expected = SoftmaxOracle.of(oracle.predict(sample));
        }
        assertEquals(ModelFile.classifierMetadata(LABELS, refuse), OnnxFile.metadata(withMeta));
        assertEquals(Map.of(), OnnxFile.metadata(bare));
        Model model;
        try (Predictor p = Predictor.load(withMeta, b -> b.threads(1, 1))) {
            model = p.model();
            assertEquals(LABELS, p.labels());
            assertEquals(refuse, p.preprocessing().orElseThrow());
            Classification c = p.classify(png(dir, "g.png", grey(28, 28)));
            assertArrayEquals(expected, c.probabilities(), 1e-5f);
            assertEquals(LABELS.get(c.best().index()), c.best().label());
        }
        assertFalse(model.lifetime().isAlive(), "closing the predictor closed the ONNX model");
        try (Predictor p = Predictor.load(bare)) {
            assertEquals(ImagePreprocessing.grey(28, 28), p.preprocessing().orElseThrow(), "the default for (1, 28, 28)");
            assertEquals("class 3", p.labels().get(3));
            assertArrayEquals(expected, p.classify(sample).probabilities(), 1e-5f);
        }
    }

    @Test
    void onnxMetadataThatDoesNotFitIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path twoLabels = dir.resolve("labels.onnx");
        Path badJson = dir.resolve("json.onnx");
        Path wrongSize = dir.resolve("size.onnx");
        try (Model net = convnet()) {
            OnnxFile.save(net, twoLabels, ModelFile.classifierMetadata(List.of("a", "b"), null));
            OnnxFile.save(net, badJson, Map.of(ModelFile.CLASSES_KEY, "[\"a\", 3"));
            OnnxFile.save(net, wrongSize, ModelFile.classifierMetadata(List.of(), ImagePreprocessing.grey(32, 32)));
        }
        OnnxException e = assertThrows(OnnxException.class, () -> Predictor.load(twoLabels));
        assertTrue(e.getMessage().contains("labels.onnx") && e.getMessage().contains("names 2 classes but its model outputs 7"),
                e.getMessage());
        e = assertThrows(OnnxException.class, () -> Predictor.load(badJson));
        assertTrue(e.getMessage().contains("json.onnx") && e.getMessage().contains("its class names cannot be read"), e.getMessage());
        e = assertThrows(OnnxException.class, () -> Predictor.load(wrongSize));
        assertTrue(e.getMessage().contains("makes samples (1, 32, 32) but its model takes (1, 28, 28)"), e.getMessage());
        Path text = Files.writeString(dir.resolve("notes.onnx"), "not a model");
        assertThrows(OnnxException.class, () -> Predictor.load(text));
    }
}
