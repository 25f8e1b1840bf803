package dev.deepnet.lab.experiments;

import java.util.List;

/** The lab's experiments, in the lecture's order. */
public final class Experiments {
    private Experiments() {}

    public static List<Experiment> all() {
        return List.of(new Shadows(), new Autoencoder(), new MaxStimulation(), new NetworkPicture(), new SigmoidMl(),
                new SoftmaxComparison(), new FrozenAutoencoder(), new LayerwisePretraining(), new DropoutComparison(),
                new DeepNarrow(), new Knockout(), new LinearDepth(), new AdversarialExamples(), new FoolingImages(), new Occlusion());
    }
}
