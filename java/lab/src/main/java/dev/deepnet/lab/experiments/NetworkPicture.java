package dev.deepnet.lab.experiments;

import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.ops.Activation;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The autoencoder drawn the lecture's way — green connections for positive weights, red for
 * negative, brighter for larger; neurons shaded by activation — before and after training, for
 * one giraffe's shadow.
 */
public final class NetworkPicture implements Experiment {

    @Override
    public String name() {
        return "network-picture";
    }

    @Override
    public String title() {
        return "Network picture: weights and activations";
    }

    @Override
    public Result run(Path dir) throws IOException {
        float[] giraffe = Arrays.copyOfRange(Shadows.shadows(Autoencoder.SAMPLES, 1), 20, 30);
        Path before = dir.resolve("network-before.png");
        Dense enc0 = new Dense(10, 3, Activation.SIGMOID);
        enc0.named("hidden");
        Dense dec0 = new Dense(3, 10, Activation.SIGMOID);
        dec0.named("output");
        double largestBefore;
        try (Model untrained = Model.sequential(Shape.of(10), 1, enc0, dec0)) { // the same seed: the trained net's starting point
            Autoencoder.draw(enc0, dec0, giraffe, before, "before training (a giraffe's shadow)");
            largestBefore = largest(enc0, dec0);
        }
        Path after = dir.resolve("network-after.png");
        double largestAfter;
        try (Autoencoder.Trained t = Autoencoder.train(1)) {
            Autoencoder.draw(t.encoder(), t.decoder(), giraffe, after, "after " + Autoencoder.ITERATIONS + " iterations");
            largestAfter = largest(t.encoder(), t.decoder());
        }
        String measured = String.format(Locale.ROOT, "Before training the weights are small and mixed (largest |w| %.2f), so every"
                + " output neuron is mid-grey; after training the connections have grown (largest |w| %.1f) into a pattern of"
                + " strong green and red, and the output column reproduces the giraffe's tall shadow.", largestBefore, largestAfter);
        return new Result(name(), title(), "Drawing each connection green or red by the sign of its weight, and each neuron by its"
                + " activation, shows what the net has learned.", measured, largestAfter > 2 * largestBefore, List.of(before, after),
                List.of());
    }

    private static double largest(Dense... layers) {
        double m = 0;
        for (Dense d : layers) {
            for (float v : d.weight().value().toArray()) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }
}
