package dev.deepnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.ops.Activation;
import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed load keeps no memory. Tensor memory is malloc'd outside the Java heap, and
 * {@link Tensor#bytesAllocated()} only ever grows, so what is still held is asked of the C library:
 * glibc's {@code mallinfo2} sums the bytes malloc has handed out and not had back, in every arena
 * and in mmapped blocks. After a warm-up that must stay within {@link #SLACK_BYTES} however many
 * loads fail, where one leaked model per load adds hundreds of megabytes. (The process's resident
 * set is no measure here: the JVM touching fresh heap pages grew it by 19 MiB over 200 loads that
 * allocated no tensor at all.)
 */
class ModelFileLeakTest {

    static final int LOADS = 1000;
    static final int WARM_UP = 100;
    /** What the JVM itself may malloc meanwhile (compiled code, symbols). */
    static final long SLACK_BYTES = 16L << 20;

    private static final MethodHandle MALLINFO2 = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("mallinfo2")
                    .orElseThrow(() -> new IllegalStateException("this test measures native memory with glibc's mallinfo2")),
            FunctionDescriptor.of(MemoryLayout.structLayout(MemoryLayout.sequenceLayout(10, ValueLayout.JAVA_LONG))));

    /** Bytes malloc has handed out and not had back: mallinfo2's uordblks (in arenas) + hblkhd (mmapped). */
    static long mallocInUse() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) MALLINFO2.invokeExact((SegmentAllocator) arena);
            // struct mallinfo2 is ten size_t: arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, ...
            return info.getAtIndex(ValueLayout.JAVA_LONG, 7) + info.getAtIndex(ValueLayout.JAVA_LONG, 4);
        } catch (Throwable e) {
            throw new AssertionError("mallinfo2 failed", e);
        }
    }

    /**
     * Calls {@code load} LOADS times, each of which must fail. Every failed load must leave the
     * tensor memory in use ({@link Tensor#bytesLive()}) exactly as it found it, and after them all
     * malloc's bytes in use must be within {@link #SLACK_BYTES} of what they were after the warm-up.
     */
    static void assertFailedLoadsHoldNoMemory(ThrowingLoad load) throws IOException {
        long base = 0;
        for (int i = 0; i < LOADS; i++) {
            if (i == WARM_UP) {
                base = mallocInUse();
            }
            long live = Tensor.bytesLive();
            load.failOnce();
            assertEquals(live, Tensor.bytesLive(), "failed load " + i + " kept tensor memory");
        }
        // The JIT's and GC's own mallocs come and go on other threads: read a few times and take the least.
        long grown = Long.MAX_VALUE;
        for (int reading = 0; reading < 5 && grown >= SLACK_BYTES; reading++) {
            if (reading > 0) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            grown = Math.min(grown, mallocInUse() - base);
        }
        assertTrue(grown < SLACK_BYTES, "native memory in use grew " + (grown >> 10) + " KiB over " + (LOADS - WARM_UP)
                + " failed loads");
    }

    interface ThrowingLoad {
        void failOnce() throws IOException;
    }

    /**
     * The measure itself: models left open show as about their parameters' bytes. Other threads
     * malloc and free meanwhile — the JIT's compiler arenas freed 19 MB inside one reading of 64
     * models — so this takes the best of three readings of 128 models (32 MB) each.
     */
    @Test
    void mallocInUseSeesModelsThatAreNotClosed() {
        long best = Long.MIN_VALUE;
        long bytes = 0;
        for (int attempt = 0; attempt < 3 && best <= bytes * 3 / 4; attempt++) {
            List<Model> open = new ArrayList<>();
            try {
                long before = mallocInUse();
                for (int i = 0; i < 128; i++) {
                    open.add(leNet5());
                }
                best = Math.max(best, mallocInUse() - before);
                bytes = 128 * open.get(0).parameterCount() * Float.BYTES;
            } finally {
                open.forEach(Model::close);
            }
        }
        assertTrue(best > bytes * 3 / 4, "128 models of " + bytes + " parameter bytes together show as at most " + best
                + " bytes in use (best of three readings)");
    }

    /** The measured case: LeNet's 13 MB file whose architecture names an output node it does not have. */
    @Test
    void aLeNetFileWithABadOutputFailsAThousandTimesWithoutAllocating(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("lenet.safetensors");
        try (Model m = LeNet.create(10, 1)) {
            String architecture = ModelFile.architecture(m);
            String bad = architecture.replace("\"output\": 10,", "\"output\": 11,");
            assertNotEquals(architecture, bad);
            ModelWeights.save(m, file, Map.of(ModelFile.ARCHITECTURE_KEY, bad));
        }
        long allocated = Tensor.bytesAllocated();
        assertFailedLoadsHoldNoMemory(() -> {
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(file));
            assertTrue(e.getMessage().contains("output 11 is not a node"), e.getMessage());
        });
        assertEquals(allocated, Tensor.bytesAllocated(), "validation failed, so no layer was built");
    }

    /** LeNet-5's proportions on 28x28 images: 61,706 parameters, small enough to build a thousand times in seconds. */
    static Model leNet5() {
        return Model.sequential(Shape.of(1, 28, 28), 5,
                new Conv2d(1, 6, 5, 1, 2), new Relu(), new MaxPool2d(2, 2),
                new Conv2d(6, 16, 5, 1, 0), new Relu(), new MaxPool2d(2, 2), new Flatten(),
                new Dense(400, 120, Activation.RELU), new Dense(120, 84, Activation.RELU), new Dense(84, 10));
    }

    /**
     * The latest failure a load can have: the file passed every check, every layer was built, and
     * the data ends early while the weights are copied (the file was cut on disk after its header
     * was read). Everything built must be freed.
     */
    @Test
    void aFileCutAfterItsHeaderWasReadFailsAThousandTimesAndFreesEveryLayer(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("lenet5.safetensors");
        long parameterBytes;
        try (Model m = leNet5()) {
            ModelFile.save(m, file);
            parameterBytes = m.parameterCount() * Float.BYTES;
        }
        assertEquals(61_706 * 4, parameterBytes);
        try (SafeTensorsFile f = SafeTensors.read(file)) {
            try (FileChannel cut = FileChannel.open(file, StandardOpenOption.WRITE)) {
                cut.truncate(Files.size(file) - 20); // inside the last tensor, dense3.bias
            }
            long before = Tensor.bytesAllocated();
            assertFailedLoadsHoldNoMemory(() -> {
                SafeTensorsException e = assertThrows(SafeTensorsException.class,
                        () -> ModelFile.load(f, ModelFile.Limits.fromSystemProperties()));
                assertTrue(e.getMessage().contains("file ended at byte"), e.getMessage());
            });
            // Every load built the whole model before the copy failed: the failure was as late as it gets.
            assertTrue(Tensor.bytesAllocated() - before >= LOADS * parameterBytes,
                    "allocated " + (Tensor.bytesAllocated() - before) + " bytes over " + LOADS + " loads");
        }
    }
}
