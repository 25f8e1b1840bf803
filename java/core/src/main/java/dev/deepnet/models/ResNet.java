package dev.deepnet.models;

import dev.deepnet.nn.AdaptiveAvgPool2d;
import dev.deepnet.nn.Add;
import dev.deepnet.nn.BatchNorm2d;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.nn.Relu;
import dev.deepnet.ops.Conv2dSpec;
import dev.deepnet.tensor.Shape;

/**
 * A small residual net with batch normalisation for 28x28 grey images (Fashion-MNIST), in the
 * shape of He et al.'s CIFAR ResNets: a stem, then three stages of one basic block each, the last
 * two halving the maps and doubling the channels (a 1x1 projection on the shortcut), global
 * average pooling and one dense layer of raw class scores (train with {@code SoftmaxCrossEntropy}).
 *
 * <pre>
 * (1, 28, 28)  conv 3x3 x32, bn, relu                                   -> (32, 28, 28)
 *              block: conv 3x3, bn, relu, conv 3x3, bn, + x, relu        -> (32, 28, 28)
 *              block: conv 3x3 /2 x64 ..., + bn(conv 1x1 /2 x), relu     -> (64, 14, 14)
 *              block: conv 3x3 /2 x128 ..., + bn(conv 1x1 /2 x), relu    -> (128, 7, 7)
 *              global average pool, flatten, dense classes
 * </pre>
 */
public final class ResNet {
    private ResNet() {}

    public static Model create(int classes, long seed) {
        Model.Builder b = Model.builder(Shape.of(1, 28, 28));
        Node x = b.add(new Relu().named("stem.relu"), b.add(new BatchNorm2d(32).named("stem.bn"),
                b.add(new Conv2d(1, 32, 3, 1, 1).named("stem.conv"), b.input())));
        x = block(b, x, "stage1", 32, 32, 1);
        x = block(b, x, "stage2", 32, 64, 2);
        x = block(b, x, "stage3", 64, 128, 2);
        Node pooled = b.add(new Flatten().named("flatten"), b.add(AdaptiveAvgPool2d.global().named("pool"), x));
        return b.build(b.add(new Dense(128, classes).named("fc"), pooled), seed);
    }

    /** A basic block: two 3x3 convolutions with batch norm, the input (or its 1x1 projection) added before the last relu. */
    private static Node block(Model.Builder b, Node x, String name, int in, int out, int stride) {
        Node y = b.add(new Conv2d(in, out, 3, stride, 1).named(name + ".conv1"), x);
        y = b.add(new Relu().named(name + ".relu1"), b.add(new BatchNorm2d(out).named(name + ".bn1"), y));
        y = b.add(new BatchNorm2d(out).named(name + ".bn2"), b.add(new Conv2d(out, out, 3, 1, 1).named(name + ".conv2"), y));
        Node shortcut = x;
        if (stride != 1 || in != out) {
            shortcut = b.add(new BatchNorm2d(out).named(name + ".proj.bn"),
                    b.add(new Conv2d(in, out, 1, 1, Conv2dSpec.of(stride, 0)).named(name + ".proj.conv"), x));
        }
        return b.add(new Relu().named(name + ".relu2"), b.add(new Add().named(name + ".add"), y, shortcut));
    }
}
