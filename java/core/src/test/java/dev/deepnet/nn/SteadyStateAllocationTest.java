package dev.deepnet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.dnnl.Dnnl;

import dev.deepnet.ops.Activation;
import dev.deepnet.ops.OneDnnOps;
import dev.deepnet.ops.Ops;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import dev.deepnet.train.SoftmaxCrossEntropy;
import dev.deepnet.train.Sgd;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * After warm-up a training step allocates no native memory and a constant, small amount of heap.
 * Native memory is read from glibc's allocator (mallinfo2: bytes in use, including oneDNN's own
 * allocations) and Java's arenas are all created at compile time; heap from the thread's
 * allocation counter.
 */
class SteadyStateAllocationTest {

    private static final MemoryLayout MALLINFO2 = MemoryLayout.sequenceLayout(10, ValueLayout.JAVA_LONG);

    /** Bytes glibc's malloc has handed out and not taken back: uordblks (arena) + hblkhd (mmapped). */
    static long mallocInUse() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle mallinfo2 = linker.downcallHandle(linker.defaultLookup().find("mallinfo2").orElseThrow(),
                FunctionDescriptor.of(MemoryLayout.structLayout(MALLINFO2.withName("fields"))));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) mallinfo2.invokeExact((SegmentAllocator) arena);
            long hblkhd = info.getAtIndex(ValueLayout.JAVA_LONG, 4);
            long uordblks = info.getAtIndex(ValueLayout.JAVA_LONG, 7);
            return hblkhd + uordblks;
        }
    }

    static long heapAllocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void aTrainingStepAllocatesNoNativeMemoryAndConstantHeap() throws Throwable {
        try (Ops ops = new OneDnnOps();
             Model net = Model.sequential(Shape.of(1, 12, 12), 1, new Conv2d(1, 8, 3, 1, 1), new BatchNorm2d(8), new Relu(),
                     new Conv2d(8, 8, 3, 3, dev.deepnet.ops.Conv2dSpec.of(1, 1).withGroups(8)), Clip.relu6(), new MaxPool2d(2, 2),
                     new Flatten(), new Dropout(0.2), new Dense(8 * 6 * 6, 10, Activation.TANH), new Dense(10, 4));
             Plan plan = net.compileForTraining(ops, 16, 1);
             Tensor target = Tensor.allocate(Shape.of(16, 4))) {
            for (int i = 0; i < 16; i++) {
                target.setFlat(i * 4L + i % 4, 1f);
            }
            plan.input().fill(0.5f);
            SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
            Sgd sgd = new Sgd(0.01);
            Runnable step = () -> {
                plan.forward(true);
                loss.evaluate(plan.output(), target, plan.outputGradient());
                plan.backward();
                sgd.step(plan);
            };
            for (int i = 0; i < 300; i++) { // warm-up: primitives created, JIT compiled
                step.run();
            }
            long handlesBefore = Dnnl.handlesCreated();
            long tensorBytesBefore = Tensor.bytesAllocated();
            long nativeBefore = mallocInUse();
            long heapBefore = heapAllocated();
            for (int i = 0; i < 3000; i++) {
                step.run();
            }
            long heapPerStep = (heapAllocated() - heapBefore) / 3000;
            long nativeGrowth = mallocInUse() - nativeBefore;
            assertEquals(handlesBefore, Dnnl.handlesCreated(), "oneDNN objects created during steady-state steps");
            assertEquals(tensorBytesBefore, Tensor.bytesAllocated(), "tensor memory allocated during steady-state steps");
            // malloc also serves the JVM (JIT, GC), which moves it by several MB either way: this bound
            // only catches large leaks (one conv output, 73 KB, per step would be 220 MB); the exact
            // checks are the two counters above.
            assertTrue(nativeGrowth < 64L << 20, "native memory grew by " + nativeGrowth + " bytes over 3000 steps");
            assertTrue(heapPerStep < 16 * 1024, "heap allocated per step: " + heapPerStep + " bytes");
        }
    }
}
