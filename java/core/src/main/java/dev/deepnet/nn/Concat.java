package dev.deepnet.nn;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;

/** Joins two or more branches along dimension 1 (features or channels); the gradient is split back. */
public final class Concat extends Layer {

    @Override
    String kind() {
        return "concat";
    }

    @Override
    int arity() {
        return -1;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        if (inputs.size() < 2) {
            throw shapeError("joins two or more inputs, got " + inputs.size());
        }
        Shape first = inputs.get(0);
        long channels = 0;
        for (Shape s : inputs) {
            boolean same = s.rank() == first.rank() && s.rank() >= 2 && s.dim(0) == first.dim(0);
            for (int d = 2; same && d < s.rank(); d++) {
                same = s.dim(d) == first.dim(d);
            }
            if (!same) {
                throw shapeError("inputs must agree on every dimension but 1, got " + inputs);
            }
            channels += s.dim(1);
        }
        return first.withDim(1, channels);
    }

    @Override
    Step step(StepContext ctx, List<Shape> inputs) {
        Shape ys = outputShape(inputs);
        long batch = ys.dim(0);
        long outRow = ys.byteSize() / batch; // bytes of one sample of the output
        return new Step() {
            @Override
            public void forward(Tensor[] x, Tensor y, boolean training) {
                MemorySegment out = y.segment();
                long offset = 0;
                for (Tensor in : x) {
                    long row = in.shape().byteSize() / batch;
                    for (long n = 0; n < batch; n++) {
                        MemorySegment.copy(in.segment(), n * row, out, n * outRow + offset, row);
                    }
                    offset += row;
                }
            }

            @Override
            public void backward(Tensor[] x, Tensor y, Tensor dy, Tensor[] dx) {
                MemorySegment grad = dy.segment();
                long offset = 0;
                for (int i = 0; i < x.length; i++) {
                    long row = x[i].shape().byteSize() / batch;
                    if (dx[i] != null) {
                        for (long n = 0; n < batch; n++) {
                            MemorySegment.copy(grad, n * outRow + offset, dx[i].segment(), n * row, row);
                        }
                    }
                    offset += row;
                }
            }
        };
    }
}
