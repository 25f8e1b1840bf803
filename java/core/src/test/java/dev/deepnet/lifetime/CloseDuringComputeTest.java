package dev.deepnet.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.deepnet.dnnl.Arg;
import dev.deepnet.dnnl.DataType;
import dev.deepnet.dnnl.Engine;
import dev.deepnet.dnnl.ExecArgs;
import dev.deepnet.dnnl.FormatTag;
import dev.deepnet.dnnl.Memory;
import dev.deepnet.dnnl.MemoryDesc;
import dev.deepnet.dnnl.Primitive;
import dev.deepnet.dnnl.PrimitiveDesc;
import dev.deepnet.dnnl.Stream;
import dev.deepnet.infer.Predictor;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Parameter;
import dev.deepnet.nn.Plan;
import dev.deepnet.nn.Relu;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.ops.Pool2dSpec;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A native call never outlives its memory: 100 trials per handle type, each closing the handle
 * from the test thread at a random moment while another thread computes on it with oneDNN.
 * Before the lifetime rule, such closes crashed the JVM (SIGSEGV) in 9 of 27 trials. Now every
 * close either fails with {@link IllegalStateException} while a call runs (the handle stays
 * usable: the worker goes on computing) or lands between calls, after which the worker's next
 * call fails with {@link IllegalStateException}. Any other outcome fails the test; a crash takes
 * the test JVM down with it.
 */
class CloseDuringComputeTest {

    private static final int TRIALS = 100;
    private static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(20);

    /** What a trial computes on and what it closes. */
    private interface Fixture extends AutoCloseable {
        /** One call that reaches native code with the handle under test. */
        void compute();

        /** Closes the handle under test (may throw IllegalStateException while compute runs). */
        void closeTarget();

        /** Frees whatever the trial made, once the worker has stopped. */
        @Override
        void close();
    }

    private record Outcome(int refusedWhileInUse, int landedBetweenCalls) {
    }

    /**
     * 100 trials (more when the two outcomes have not both shown yet): a worker computes over and over (pausing now and then, so that some closes land
     * between calls) while this thread closes the target after a random delay. A refused close
     * must leave the handle working (the worker completes further calls); a close that lands must
     * make the worker's next call throw {@link IllegalStateException}.
     */
    private static Outcome run(String what, Supplier<Fixture> setup, long seed) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(seed);
        int refused = 0;
        int landed = 0;
        // On a busy machine the two kinds can take more trials to show: up to five times as many.
        for (int trial = 0; trial < TRIALS || (trial < 5 * TRIALS && (refused == 0 || landed == 0)); trial++) {
            try (Fixture f = setup.get()) {
                f.compute(); // warm: the primitives exist before the race starts
                AtomicBoolean stop = new AtomicBoolean();
                AtomicLong calls = new AtomicLong();
                AtomicReference<Throwable> ended = new AtomicReference<>();
                SplittableRandom pauses = random.split();
                Thread worker = new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            f.compute();
                            calls.incrementAndGet();
                            if (pauses.nextBoolean()) {
                                LockSupport.parkNanos(pauses.nextLong(50_000));
                            }
                        }
                    } catch (Throwable t) {
                        ended.set(t);
                    }
                }, what + " worker");
                worker.start();
                long started = System.nanoTime() + PATIENCE_NANOS;
                while (calls.get() == 0 && ended.get() == null && System.nanoTime() < started) {
                    LockSupport.parkNanos(10_000); // the worker computes before the close is timed (a busy machine starts it late)
                }
                LockSupport.parkNanos(random.nextLong(2_000_000));
                try {
                    f.closeTarget();
                    landed++;
                    join(worker, what);
                    Throwable t = ended.get();
                    assertNotNull(t, what + ": the worker stopped without an error after its handle was closed");
                    if (!(t instanceof IllegalStateException)) {
                        fail(what + ": the worker ended with " + t + " instead of IllegalStateException", t);
                    }
                } catch (IllegalStateException inUse) {
                    assertTrue(inUse.getMessage().contains("in use"), what + ": unexpected message: " + inUse.getMessage());
                    refused++;
                    long before = calls.get();
                    long deadline = System.nanoTime() + PATIENCE_NANOS;
                    while (calls.get() < before + 2 && ended.get() == null) { // the refused close freed nothing
                        assertTrue(System.nanoTime() < deadline, () -> what + ": the worker made no progress after a refused close; it is at "
                                + Arrays.toString(worker.getStackTrace()));
                        LockSupport.parkNanos(20_000);
                    }
                    stop.set(true);
                    join(worker, what);
                    if (ended.get() != null) {
                        fail(what + ": the worker failed after a refused close: " + ended.get(), ended.get());
                    }
                    f.closeTarget(); // nothing runs now: the close goes through
                }
            }
        }
        return new Outcome(refused, landed);
    }

    private static void join(Thread worker, String what) throws InterruptedException {
        worker.join(TimeUnit.NANOSECONDS.toMillis(PATIENCE_NANOS));
        assertFalse(worker.isAlive(), what + ": the worker went on computing on a closed handle");
    }

    private static void assertRaced(String what, Outcome o) {
        // Most of a worker's time is spent in native code, so some of 100 closes land during a call and
        // some (in the worker's pauses) between calls; neither kind would mean the trials never raced.
        assertTrue(o.refusedWhileInUse() > 0, what + ": no close of " + TRIALS + " landed during a native call: " + o);
        assertTrue(o.landedBetweenCalls() > 0, what + ": no close of " + TRIALS + " landed between calls: " + o);
    }

    private static Tensor random(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(s);
        for (long i = 0; i < t.size(); i++) {
            t.setFlat(i, (float) r.nextDouble(-1, 1));
        }
        return t;
    }

    /** A matmul long enough to race with (about 0.1-1 ms), on one Ops instance. */
    private static final class MatmulFixture implements Fixture {
        final Ops ops = new OneDnnOps();
        final Tensor a = random(Shape.of(96, 96), 1);
        final Tensor b = random(Shape.of(96, 96), 2);
        final Tensor c = Tensor.allocate(Shape.of(96, 96));
        final Tensor target;
        final boolean closeOps;

        MatmulFixture(int which) {
            target = which == 0 ? a : which == 1 ? c : null;
            closeOps = which == 2;
        }

        @Override
        public void compute() {
            ops.matmul(a, b, c);
        }

        @Override
        public void closeTarget() {
            if (closeOps) {
                ops.close();
            } else {
                target.close();
            }
        }

        @Override
        public void close() {
            a.close();
            b.close();
            c.close();
            ops.close();
        }
    }

    @Test
    void closingAnInputTensorDuringAMatmul() throws InterruptedException {
        assertRaced("input tensor", run("input tensor", () -> new MatmulFixture(0), 11));
    }

    @Test
    void closingAnOutputTensorDuringAMatmul() throws InterruptedException {
        assertRaced("output tensor", run("output tensor", () -> new MatmulFixture(1), 12));
    }

    @Test
    void closingTheOpsDuringAMatmul() throws InterruptedException {
        assertRaced("ops", run("ops", () -> new MatmulFixture(2), 13));
    }

    @Test
    void closingAWorkspaceDuringMaxPooling() throws InterruptedException {
        Pool2dSpec spec = Pool2dSpec.of(3, 2, 0);
        Shape xs = Shape.of(8, 32, 55, 55);
        assertRaced("workspace", run("workspace", () -> new Fixture() {
            final Ops ops = new OneDnnOps();
            final Tensor x = random(xs, 3);
            final Tensor y = Tensor.allocate(spec.outputShape(xs));
            final Ops.Workspace ws = ops.maxPoolWorkspace(spec, xs);

            @Override
            public void compute() {
                ops.maxPool2dForward(spec, x, y, ws);
            }

            @Override
            public void closeTarget() {
                ws.close();
            }

            @Override
            public void close() {
                ws.close();
                x.close();
                y.close();
                ops.close();
            }
        }, 14));
    }

    /** A 3-layer MLP's inference plan on oneDNN. */
    private static class PlanFixture implements Fixture {
        final Ops ops = new OneDnnOps();
        final Model model = Model.sequential(Shape.of(256), 5, new Dense(256, 256), new Relu(), new Dense(256, 256), new Relu(),
                new Dense(256, 10));
        final Plan plan = model.compileForInference(ops, 64);
        final int which; // 0 parameter, 1 model, 2 plan

        PlanFixture(int which) {
            this.which = which;
            plan.input().fill(0.5f);
        }

        @Override
        public void compute() {
            plan.forward(false);
        }

        @Override
        public void closeTarget() {
            switch (which) {
                case 0 -> {
                    Parameter p = model.parameters().get(2); // the second dense layer's weight
                    p.close();
                }
                case 1 -> model.close();
                default -> plan.close();
            }
        }

        @Override
        public void close() {
            plan.close();
            ops.close();
            model.close();
        }
    }

    @Test
    void closingAParameterDuringAForwardPass() throws InterruptedException {
        // A parameter is held while an op reads it, so a close lands between ops (the next op then throws)
        // or is refused; either way the forward pass never reads freed weights.
        assertRaced("parameter", run("parameter", () -> new PlanFixture(0), 15));
    }

    @Test
    void closingTheModelDuringAForwardPass() throws InterruptedException {
        assertRaced("model", run("model", () -> new PlanFixture(1), 16));
    }

    @Test
    void closingThePlanDuringAForwardPass() throws InterruptedException {
        assertRaced("plan", run("plan", () -> new PlanFixture(2), 17));
    }

    @Test
    void closingAPredictorWaitsForItsCallsAndRefusesNewOnes() throws InterruptedException {
        // Predictor.close waits for the calls running (a service shutting down), so it is never refused;
        // every caller's next call is refused with IllegalStateException once it has returned.
        try (Model model = Model.sequential(Shape.of(256), 5, new Dense(256, 256), new Relu(), new Dense(256, 10))) {
            float[] samples = new float[64 * 256];
            java.util.Arrays.fill(samples, 0.25f);
            SplittableRandom random = new SplittableRandom(18);
            for (int trial = 0; trial < TRIALS; trial++) {
                Predictor predictor = new Predictor(model, OneDnnOps::new, 64);
                float[] expected = predictor.predict(samples, 64);
                List<Thread> callers = new ArrayList<>();
                AtomicReference<Throwable> wrong = new AtomicReference<>();
                AtomicLong refusedCalls = new AtomicLong();
                for (int c = 0; c < 2; c++) {
                    Thread t = new Thread(() -> {
                        try {
                            for (;;) {
                                float[] got = predictor.predict(samples, 64);
                                if (!java.util.Arrays.equals(expected, got)) {
                                    wrong.set(new AssertionError("a prediction changed while the predictor was closing"));
                                    return;
                                }
                            }
                        } catch (IllegalStateException closed) {
                            refusedCalls.incrementAndGet();
                        } catch (Throwable other) {
                            wrong.set(other);
                        }
                    });
                    callers.add(t);
                    t.start();
                }
                LockSupport.parkNanos(random.nextLong(2_000_000));
                predictor.close();
                for (Thread t : callers) {
                    t.join(TimeUnit.NANOSECONDS.toMillis(PATIENCE_NANOS));
                    assertTrue(!t.isAlive(), "a caller went on predicting on a closed predictor");
                }
                if (wrong.get() != null) {
                    fail("trial " + trial + ": " + wrong.get(), wrong.get());
                }
                assertEquals(2, refusedCalls.get(), "every caller's next call is refused");
                assertThrows(IllegalStateException.class, () -> predictor.predict(samples, 64));
            }
        }
    }

    /** The owning handles one execution touches, used directly: engine, stream, primitive, memories. */
    enum Handle { ENGINE, STREAM, PRIMITIVE, SOURCE_MEMORY, DESTINATION_MEMORY }

    @ParameterizedTest
    @EnumSource(Handle.class)
    void closingAHandleDuringAPrimitiveExecution(Handle target) throws InterruptedException {
        Outcome o = run(target.name(), () -> new Fixture() {
            final Engine engine = Engine.cpu();
            final Stream stream = new Stream(engine);
            final MemoryDesc md = MemoryDesc.of(DataType.F32, FormatTag.AB, 96, 96);
            final PrimitiveDesc pd = PrimitiveDesc.matmul(engine, md, md, null, md, null);
            final Primitive matmul = new Primitive(pd);
            final Memory a = Memory.allocate(md, engine);
            final Memory c = Memory.allocate(md, engine);
            final ExecArgs args = new ExecArgs(3).set(Arg.SRC, a).set(Arg.WEIGHTS, a).set(Arg.DST, c);

            @Override
            public void compute() {
                matmul.execute(stream, args);
            }

            @Override
            public void closeTarget() {
                switch (target) {
                    case ENGINE -> engine.close();
                    case STREAM -> stream.close();
                    case PRIMITIVE -> matmul.close();
                    case SOURCE_MEMORY -> a.close();
                    case DESTINATION_MEMORY -> c.close();
                }
            }

            @Override
            public void close() {
                args.close();
                a.close();
                c.close();
                matmul.close();
                pd.close();
                md.close();
                stream.close();
                engine.close();
            }
        }, 100 + target.ordinal());
        if (target == Handle.ENGINE) {
            // never refused: closing an engine makes it unusable at once and destroys it with its last dependent
            assertEquals(0, o.refusedWhileInUse(), o.toString());
            assertTrue(o.landedBetweenCalls() >= TRIALS, o.toString()); // every close landed (and the trials ran on, looking for a refusal)
        } else {
            assertRaced(target.name(), o);
        }
    }
}
