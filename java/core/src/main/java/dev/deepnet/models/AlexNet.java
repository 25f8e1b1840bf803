package dev.deepnet.models;

import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Dropout;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Lrn;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.ops.Activation;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.tensor.Shape;

/**
 * AlexNet as in Krizhevsky, Sutskever and Hinton (2012): 227x227 RGB crops in, class scores out.
 *
 * <pre>
 * (3, 227, 227) conv 11x11 /4 x96, relu, LRN, max 3/2        -> (96, 27, 27)
 *               conv 5x5 pad 2 x256, relu, LRN, max 3/2      -> (256, 13, 13)
 *               conv 3x3 pad 1 x384, relu
 *               conv 3x3 pad 1 x384, relu
 *               conv 3x3 pad 1 x256, relu, max 3/2           -> (256, 6, 6)
 *               flatten, FC 4096, relu, dropout 0.5, FC 4096, relu, dropout 0.5, FC classes
 * </pre>
 * Two variants. {@link #paper} is the paper's: it split conv2, conv4 and conv5 across two GPUs, each
 * half reading only its own GPU's half of the channels — two groups — which makes 60,965,224
 * parameters for 1,000 classes (the lecture's "60 million"). {@link #create} is the one-device
 * variant with full convolutions, as most reimplementations (and deepnet's benchmarks) use:
 * 62,378,344 parameters.
 */
public final class AlexNet {
    private AlexNet() {}

    /** The one-device variant: every convolution reads all its input channels (62.4 M parameters for 1,000 classes). */
    public static Model create(int classes, long seed) {
        return build(classes, seed, 1);
    }

    /** The paper's: conv2, conv4 and conv5 in two groups, as split across its two GPUs (61.0 M parameters for 1,000 classes). */
    public static Model paper(int classes, long seed) {
        return build(classes, seed, 2);
    }

    private static Model build(int classes, long seed, int groups) {
        return Model.sequential(Shape.of(3, 227, 227), seed,
                new Conv2d(3, 96, 11, 4, 0).named("conv1"), new Relu().named("relu1"), new Lrn().named("lrn1"),
                new MaxPool2d(3, 2).named("pool1"),
                new Conv2d(96, 256, 5, 5, Conv2dSpec.of(1, 2).withGroups(groups)).named("conv2"), new Relu().named("relu2"),
                new Lrn().named("lrn2"), new MaxPool2d(3, 2).named("pool2"),
                new Conv2d(256, 384, 3, 1, 1).named("conv3"), new Relu().named("relu3"), // reads both GPUs' channels
                new Conv2d(384, 384, 3, 3, Conv2dSpec.of(1, 1).withGroups(groups)).named("conv4"), new Relu().named("relu4"),
                new Conv2d(384, 256, 3, 3, Conv2dSpec.of(1, 1).withGroups(groups)).named("conv5"), new Relu().named("relu5"),
                new MaxPool2d(3, 2).named("pool5"),
                new Flatten().named("flatten"),
                new Dense(256 * 6 * 6, 4096, Activation.RELU).named("fc6"), new Dropout(0.5).named("drop6"),
                new Dense(4096, 4096, Activation.RELU).named("fc7"), new Dropout(0.5).named("drop7"),
                new Dense(4096, classes).named("fc8"));
    }
}
