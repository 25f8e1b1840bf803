package dev.deepnet.lab.experiments;

import dev.deepnet.lab.report.Charts;
import dev.deepnet.nn.Add;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Node;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Relu;
import dev.deepnet.nn.Tanh;
import dev.deepnet.ops.ReferenceOps;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One backward pass through a chain of d "diamonds" (x -> relu(x), tanh(x) -> add): 2^d paths
 * from input to output, yet the memoized backward runs a fixed number of steps per diamond.
 */
public final class LinearDepth implements Experiment {

    static final int MAX_DEPTH = 24;

    /** Backward executions and microseconds per backward pass for depths 1..MAX_DEPTH. */
    static double[][] measure() {
        double[] executions = new double[MAX_DEPTH];
        double[] micros = new double[MAX_DEPTH];
        for (int d = 1; d <= MAX_DEPTH; d++) {
            Model.Builder b = Model.builder(Shape.of(8));
            Node n = b.add(new Dense(8, 8), b.input());
            for (int i = 0; i < d; i++) {
                Node left = b.add(new Relu(), n);
                Node right = b.add(new Tanh(), n);
                n = b.add(new Add(), left, right);
            }
            try (ReferenceOps ops = new ReferenceOps(); Model net = b.build(n, 1); Plan plan = net.compileForTraining(ops, 4, 1)) {
                plan.input().fill(0.5f);
                plan.forward(true);
                plan.outputGradient().fill(1f);
                for (int w = 0; w < 200; w++) { // warm-up
                    plan.backward();
                }
                long before = plan.backwardExecutions();
                plan.backward();
                executions[d - 1] = plan.backwardExecutions() - before;
                int reps = 500;
                long t0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    plan.backward();
                }
                micros[d - 1] = (System.nanoTime() - t0) / 1e3 / reps;
            }
        }
        return new double[][] {executions, micros};
    }

    @Override
    public String name() {
        return "linear-depth";
    }

    @Override
    public String title() {
        return "Backpropagation costs time linear in depth";
    }

    @Override
    public Result run(Path dir) throws IOException {
        double[][] m = measure();
        double[] depth = new double[MAX_DEPTH];
        double[] paths = new double[MAX_DEPTH];
        for (int d = 1; d <= MAX_DEPTH; d++) {
            depth[d - 1] = d;
            paths[d - 1] = Math.log10(Math.pow(2, d));
        }
        Path png = dir.resolve("linear-depth.png");
        Charts.lines(png, "One backward pass through d diamonds (2^d paths)", "depth d",
                "executions; microseconds; log10(paths)", List.of(new Charts.Series("backward executions", depth, m[0]),
                        new Charts.Series("microseconds per backward pass", depth, m[1]),
                        new Charts.Series("log10(input-to-output paths)", depth, paths)));
        boolean linear = true;
        for (int d = 2; d <= MAX_DEPTH; d++) {
            linear &= m[0][d - 1] - m[0][d - 2] == 4;
        }
        double perDiamond = (m[1][MAX_DEPTH - 1] - m[1][0]) / (MAX_DEPTH - 1);
        String measured = String.format(Locale.ROOT, "At depth %d the graph has 2^%d = %,.0f input-to-output paths, but one backward pass"
                + " ran %.0f steps: exactly 4 more per diamond (relu, tanh, add and one gradient accumulation), and took %.1f µs,"
                + " about %.1f µs more per diamond.", MAX_DEPTH, MAX_DEPTH, Math.pow(2, MAX_DEPTH), m[0][MAX_DEPTH - 1],
                m[1][MAX_DEPTH - 1], perDiamond);
        return new Result(name(), title(), "What's computed is computed and need not be recomputed: each node's gradient is"
                + " computed once and reused upstream, so a backward pass costs time linear in depth, not in the number of paths.",
                measured, linear, List.of(png), List.of());
    }
}
