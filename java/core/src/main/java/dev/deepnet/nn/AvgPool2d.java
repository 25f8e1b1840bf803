package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;

/** Average pooling: each output is the mean of its window; (N, C, H, W) -> (N, C, oH, oW). */
public final class AvgPool2d extends Layer {

    private final Pool2dSpec spec;

    public AvgPool2d(int kernel, int stride) {
        this(Pool2dSpec.of(kernel, stride, 0));
    }

    public AvgPool2d(Pool2dSpec spec) {
        this.spec = spec;
    }

    public Pool2dSpec spec() {
        return spec;
    }

    @Override
    String kind() {
        return "avgpool";
    }

    @Override
    LayoutRule layoutRule() {
        return LayoutRule.KEEPS;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        return pooled(spec, inputs);
    }

    @Override
    public long flops(List<Shape> inputs) {
        return outputShape(inputs).size() * spec.kernelH() * spec.kernelW();
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        outputShape(inputs);
        Ops ops = ctx.ops();
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                ops.avgPool2dForward(spec, x[0], y);
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] != null) {
                    ops.avgPool2dBackward(spec, dy, dx[0]);
                }
            }
        };
    }
}
