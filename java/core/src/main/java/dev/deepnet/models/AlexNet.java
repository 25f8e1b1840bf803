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
import dev.deepnet.tensor.Shape;

/**
 * AlexNet as in Krizhevsky, Sutskever and Hinton (2012), on one device: 227x227 RGB crops in,
 * 1,000 class scores out, about 60 million parameters.
 *
 * <pre>
 * (3, 227, 227) conv 11x11 /4 x96, relu, LRN, max 3/2        -> (96, 27, 27)
 *               conv 5x5 pad 2 x256, relu, LRN, max 3/2      -> (256, 13, 13)
 *               conv 3x3 pad 1 x384, relu
 *               conv 3x3 pad 1 x384, relu
 *               conv 3x3 pad 1 x256, relu, max 3/2           -> (256, 6, 6)
 *               flatten, FC 4096, relu, dropout 0.5, FC 4096, relu, dropout 0.5, FC classes
 * </pre>
 * The paper split conv2, conv4 and conv5 across two GPUs (groups of 2); on one device they are
 * full convolutions, which is why this counts 62.4 M parameters rather than the paper's 60 M.
 */
public final class AlexNet {
    private AlexNet() {}

    public static Model create(int classes, long seed) {
        return Model.sequential(Shape.of(3, 227, 227), seed,
                new Conv2d(3, 96, 11, 4, 0).named("conv1"), new Relu().named("relu1"), new Lrn().named("lrn1"),
                new MaxPool2d(3, 2).named("pool1"),
                new Conv2d(96, 256, 5, 1, 2).named("conv2"), new Relu().named("relu2"), new Lrn().named("lrn2"),
                new MaxPool2d(3, 2).named("pool2"),
                new Conv2d(256, 384, 3, 1, 1).named("conv3"), new Relu().named("relu3"),
                new Conv2d(384, 384, 3, 1, 1).named("conv4"), new Relu().named("relu4"),
                new Conv2d(384, 256, 3, 1, 1).named("conv5"), new Relu().named("relu5"), new MaxPool2d(3, 2).named("pool5"),
                new Flatten().named("flatten"),
                new Dense(256 * 6 * 6, 4096, Activation.RELU).named("fc6"), new Dropout(0.5).named("drop6"),
                new Dense(4096, 4096, Activation.RELU).named("fc7"), new Dropout(0.5).named("drop7"),
                new Dense(4096, classes).named("fc8"));
    }
}
