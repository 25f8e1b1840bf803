package dev.deepnet.nn;

import dev.deepnet.ops.LrnSpec;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.List;

/** Local response normalisation across channels (AlexNet); (N, C, H, W) in and out. */
public final class Lrn extends Layer {

    private final LrnSpec spec;

    /** AlexNet's setting. */
    public Lrn() {
        this(LrnSpec.alexNet());
    }

    public Lrn(LrnSpec spec) {
        this.spec = spec;
    }

    public LrnSpec spec() {
        return spec;
    }

    @Override
    String kind() {
        return "lrn";
    }

    @Override
    LayoutRule layoutRule() {
        return LayoutRule.KEEPS;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        return single(inputs, 4, "(N, C, H, W)");
    }

    @Override
    public long flops(List<Shape> inputs) {
        return inputs.get(0).size() * (spec.size() * 2L + 4);
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        outputShape(inputs);
        Ops ops = ctx.ops();
        Ops.Workspace ws = ctx.training() ? ops.lrnWorkspace(spec, inputs.get(0), ctx.inputLayout(0)) : null;
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                ops.lrnForward(spec, x[0], y, training ? ws : null);
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                if (dx[0] != null) {
                    ops.lrnBackward(spec, x[0], dy, ws, dx[0]);
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
