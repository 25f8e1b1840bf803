package dev.deepnet.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input gets an exception that names the op, the argument and both shapes, and leaves outputs untouched. */
class OpsArgumentCheckTest extends BackendTestCase {

    /** Runs {@code call} expecting {@code type}, checks the message, and that {@code output} kept its contents. */
    static <T extends Throwable> void rejects(Class<T> type, Executable call, Tensor output, String... fragments) {
        float[] before = output.isOpen() ? output.toArray() : null;
        T e = assertThrows(type, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should contain '" + f + "': " + e.getMessage());
        }
        if (before != null) {
            assertArrayEquals(before, output.toArray(), "the output must be untouched");
        }
    }

    @Test
    void mismatchedShapesNameTheOpTheArgumentAndBothShapes() {
        for (Ops ops : backends()) {
            try (Tensor x = Tensor.allocate(Shape.of(4, 5)); Tensor w = Tensor.allocate(Shape.of(3, 6));
                 Tensor y = Tensor.allocate(Shape.of(4, 3)).fill(9f)) {
                rejects(IllegalArgumentException.class, () -> ops.linearForward(x, w, null, y), y,
                        "linearForward", "w must be (3, 5)", "but is (3, 6)");
            }
            try (Tensor x = Tensor.allocate(Shape.of(2, 3, 8, 8)); Tensor w = Tensor.allocate(Shape.of(4, 3, 3, 3));
                 Tensor y = Tensor.allocate(Shape.of(2, 4, 8, 8)).fill(9f)) {
                rejects(IllegalArgumentException.class, () -> ops.conv2dForward(Conv2dSpec.of(1, 0), x, w, null, y), y,
                        "conv2dForward", "y must be (2, 4, 6, 6)", "but is (2, 4, 8, 8)");
            }
            try (Tensor x = Tensor.allocate(Shape.of(2, 3, 8, 8)); Tensor w = Tensor.allocate(Shape.of(4, 2, 3, 3));
                 Tensor y = Tensor.allocate(Shape.of(2, 4, 6, 6)).fill(9f)) {
                rejects(IllegalArgumentException.class, () -> ops.conv2dForward(Conv2dSpec.of(1, 0), x, w, null, y), y,
                        "conv2dForward", "expect 2 input channels", "(2, 3, 8, 8) has 3");
            }
            try (Tensor a = Tensor.allocate(Shape.of(3, 4)); Tensor b = Tensor.allocate(Shape.of(4, 3));
                 Tensor y = Tensor.allocate(Shape.of(3, 4)).fill(9f)) {
                rejects(IllegalArgumentException.class, () -> ops.add(a, b, y), y, "add", "b must be (3, 4)", "but is (4, 3)");
            }
        }
    }

    @Test
    void aKernelLargerThanThePaddedInputIsRejected() {
        for (Ops ops : backends()) {
            try (Tensor x = Tensor.allocate(Shape.of(1, 3, 8, 8)); Tensor w = Tensor.allocate(Shape.of(2, 3, 11, 11));
                 Tensor y = Tensor.allocate(Shape.of(1, 2, 1, 1)).fill(9f)) {
                rejects(IllegalArgumentException.class, () -> ops.conv2dForward(Conv2dSpec.of(1, 1), x, w, null, y), y,
                        "conv2dForward", "spans 11 in height", "padded input height 10");
            }
            try (Tensor x = Tensor.allocate(Shape.of(1, 1, 2, 2)); Tensor y = Tensor.allocate(Shape.of(1, 1, 1, 1)).fill(9f)) {
                rejects(IllegalArgumentException.class, () -> ops.maxPool2dForward(Pool2dSpec.of(3, 1, 0), x, y, null), y,
                        "maxPool2dForward", "window 3x3 is larger than the padded input 2x2");
            }
        }
    }

    @Test
    void zeroOrNegativeSizesAndBadParametersAreRejected() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Shape.of(2, 0, 3)).getMessage().contains("[2, 0, 3]"));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(-1));
        assertThrows(IllegalArgumentException.class, () -> Conv2dSpec.of(0, 0));
        assertThrows(IllegalArgumentException.class, () -> Conv2dSpec.of(1, -1));
        assertThrows(IllegalArgumentException.class, () -> Conv2dSpec.of(1, 0).withDilation(0));
        assertThrows(IllegalArgumentException.class, () -> Pool2dSpec.of(2, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> new LrnSpec(4, 1e-4f, 0.75f, 2f));
    }

    @Test
    void aClosedTensorIsRejected() {
        for (Ops ops : backends()) {
            Tensor x = Tensor.allocate(Shape.of(2, 3));
            x.close();
            try (Tensor y = Tensor.allocate(Shape.of(2, 3)).fill(9f)) {
                rejects(IllegalStateException.class, () -> ops.activationForward(Activation.RELU, x, y), y, "closed");
                rejects(IllegalStateException.class, () -> ops.activationForward(Activation.RELU, y, x), y, "closed");
            }
        }
    }

    @Test
    void workspacesMustComeFromTheSameOpsAndGeometry() {
        Pool2dSpec spec = Pool2dSpec.of(2, 2, 0);
        Shape xs = Shape.of(1, 1, 4, 4);
        try (Tensor x = Tensor.allocate(xs); Tensor y = Tensor.allocate(Shape.of(1, 1, 2, 2)).fill(9f);
             Ops.Workspace foreign = reference.maxPoolWorkspace(spec, xs);
             Ops.Workspace otherSpec = onednn.maxPoolWorkspace(Pool2dSpec.of(2, 1, 0), xs)) {
            rejects(IllegalArgumentException.class, () -> onednn.maxPool2dForward(spec, x, y, foreign), y, "another Ops instance");
            rejects(IllegalArgumentException.class, () -> onednn.maxPool2dForward(spec, x, y, otherSpec), y, "workspace was made for");
            rejects(IllegalArgumentException.class, () -> onednn.maxPool2dBackward(spec, y, null, x), x, "workspace from the forward pass");
        }
    }

    @Test
    void repeatingACallCreatesNoNewPrimitive() {
        try (OneDnnOps ops = new OneDnnOps(); Tensor x = OpCheck.random(Shape.of(2, 3, 9, 9), 1);
             Tensor w = OpCheck.random(Shape.of(4, 3, 3, 3), 2); Tensor y = Tensor.allocate(Shape.of(2, 4, 9, 9));
             Tensor y2 = Tensor.allocate(Shape.of(2, 4, 9, 9))) {
            ops.conv2dForward(Conv2dSpec.of(1, 1), x, w, null, y);
            int after = ops.kernelCount();
            for (int i = 0; i < 5; i++) {
                ops.conv2dForward(Conv2dSpec.of(1, 1), x, w, null, y2); // another output tensor: same primitive, re-pointed
            }
            assertEquals(after, ops.kernelCount());
            assertArrayEquals(y.toArray(), y2.toArray());
        }
    }

    @Test
    void outputsThatOverlapInputsAreRejectedButInPlaceActivationsAreAllowed() {
        for (Ops ops : backends()) {
            try (Tensor x = OpCheck.random(Shape.of(2, 4), 1); Tensor w = OpCheck.random(Shape.of(4, 4), 2)) {
                Tensor y = x.reshape(Shape.of(2, 4)); // same memory as x
                rejects(IllegalArgumentException.class, () -> ops.linearForward(x, w, null, y), x, "linearForward", "shares memory");
                rejects(IllegalArgumentException.class, () -> ops.accumulate(x, x), x, "accumulate");
                float[] before = x.toArray();
                ops.activationForward(Activation.RELU, x, x); // in place is allowed
                for (int i = 0; i < before.length; i++) {
                    assertEquals(Math.max(0f, before[i]), x.getFlat(i), 1e-7);
                }
            }
        }
    }

    @Test
    void anOpsInstanceServesOneThreadAtATime() throws Exception {
        try (Ops ops = new OneDnnOps(); Tensor x = OpCheck.random(Shape.of(8, 512), 1); Tensor w = OpCheck.random(Shape.of(512, 512), 2);
             Tensor y = Tensor.allocate(Shape.of(8, 512))) {
            // Hold the instance busy from another thread with many calls; meanwhile call it here.
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread busy = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        ops.linearForward(x, w, null, y);
                    } catch (IllegalStateException refused) {
                        // the main thread was inside: both sides are refused at times, as they should be
                    }
                }
            }, "busy-worker");
            busy.start();
            IllegalStateException seen = null;
            try (Tensor y2 = Tensor.allocate(Shape.of(8, 512))) {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (seen == null && System.nanoTime() < deadline) {
                    try {
                        ops.linearForward(x, w, null, y2);
                    } catch (IllegalStateException e) {
                        seen = e;
                    }
                }
            } finally {
                stop.set(true);
                busy.join();
            }
            org.junit.jupiter.api.Assertions.assertNotNull(seen, "a call from a second thread during a call should be refused");
            assertTrue(seen.getMessage().contains("in use by thread 'busy-worker'"), seen.getMessage());
        }
    }
}
