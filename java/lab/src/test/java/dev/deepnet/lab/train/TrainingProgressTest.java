package dev.deepnet.lab.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.Dataset;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import dev.deepnet.train.Adam;
import dev.deepnet.train.SoftmaxCrossEntropy;
import dev.deepnet.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TrainingProgressTest {

    @Test
    void showsABarPerEpochAndASummaryLine() {
        float[] x = new float[64 * 2];
        int[] y = new int[64];
        for (int i = 0; i < 64; i++) {
            x[2 * i] = i % 2;
            x[2 * i + 1] = (i / 2) % 2;
            y[i] = (i % 2) ^ ((i / 2) % 2);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
             ReferenceOps ops = new ReferenceOps();
             Model net = Model.sequential(Shape.of(2), 1, new Dense(2, 8, Activation.TANH), new Dense(8, 2));
             Dataset data = Dataset.classification(x, Shape.of(2), y, 2)) {
            Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Adam(0.05)).batchSize(8).epochs(2).seed(1)
                    .validation(data).listener(new TrainingProgress(out)).build().fit(data);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("epoch 1/2") && text.contains("epoch 2/2"), text);
        assertTrue(text.contains("loss") && text.contains("samples/s"), text);
        assertTrue(text.matches("(?s).*epoch 2: train loss [0-9.]+ acc [0-9.]+; validation loss [0-9.]+ acc [0-9.]+.*"), text);
    }

    @Test
    void withoutATerminalOnlyTheEpochLinesArePrinted() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        float[] x = {0, 0, 0, 1, 1, 0, 1, 1};
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
             ReferenceOps ops = new ReferenceOps();
             Model net = Model.sequential(Shape.of(2), 1, new Dense(2, 2));
             Dataset data = Dataset.classification(x, Shape.of(2), new int[] {0, 1, 1, 0}, 2)) {
            Trainer.builder(net, ops, new SoftmaxCrossEntropy(), new Adam(0.05)).batchSize(2).epochs(3).seed(1)
                    .listener(new TrainingProgress(out, false)).build().fit(data);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(!text.contains("\r") && text.lines().count() == 3, text);
    }
}
