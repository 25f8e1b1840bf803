package dev.deepnet.nn;

import dev.deepnet.ops.Ops;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;

/** Max pooling: each output is the largest input in its window; (N, C, H, W) -> (N, C, oH, oW). */
public final class MaxPool2d extends Layer {

    private final Pool2dSpec spec;

    /** A square window with the given stride, no padding (AlexNet: 3, 2). */
    public MaxPool2d(int kernel, int stride) {
        this(Pool2dSpec.of(kernel, stride, 0));
    }

    public MaxPool2d(Pool2dSpec spec) {
        this.spec = spec;
    }

    public Pool2dSpec spec() {
        return spec;
    }

    @Override
    String kind() {
        return "maxpool";
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
        // The forward pass records where each maximum was; the backward pass routes gradients there.
        Ops.Workspace ws = ctx.training() ? ops.maxPoolWorkspace(spec, inputs.get(0), ctx.inputLayout(0)) : null;
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                ops.maxPool2dForward(spec, x[0], y, training ? ws : null);
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] != null) {
                    ops.maxPool2dBackward(spec, dy, ws, dx[0]);
                }
            }

            @Override
            public void close() {
                if (ws != null) {
                    ws.close();
                }
            }
        };
    }
}
