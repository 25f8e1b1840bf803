package dev.deepnet.models;

import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Dropout;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.ops.Activation;
import dev.deepnet.tensor.Shape;

/**
 * A LeNet-style convnet for 28x28 grey images (MNIST, Fashion-MNIST): two convolutions with
 * many kernels, each followed by max pooling, then fully connected layers, ending in raw class
 * scores (train with {@code SoftmaxCrossEntropy}).
 *
 * <pre>
 * (1, 28, 28) conv 5x5 pad 2 x32, relu, max 2/2 -> (32, 14, 14)
 *             conv 5x5 pad 2 x64, relu, max 2/2 -> (64, 7, 7)
 *             flatten, dense 1024, relu, dropout 0.3 -> dense classes
 * </pre>
 */
public final class LeNet {
    private LeNet() {}

    public static Model create(int classes, long seed) {
        return Model.sequential(Shape.of(1, 28, 28), seed,
                new Conv2d(1, 32, 5, 1, 2).named("conv1"), new Relu().named("relu1"), new MaxPool2d(2, 2).named("pool1"),
                new Conv2d(32, 64, 5, 1, 2).named("conv2"), new Relu().named("relu2"), new MaxPool2d(2, 2).named("pool2"),
                new Flatten().named("flatten"),
                new Dense(64 * 7 * 7, 1024, Activation.RELU).named("fc1"), new Dropout(0.3).named("dropout1"),
                new Dense(1024, classes).named("fc2"));
    }
}
