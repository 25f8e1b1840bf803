package dev.deepnet.bench;

import dev.deepnet.infer.Predictor;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One Predictor serving a LeNet-style net (28x28 grey) to 16 callers with mixed batch sizes (1 to
 * 64, seeded) until {@code predictions} samples are classified, reading the process's resident set
 * (VmRSS) as it goes: after a warm-up tenth it must stay flat (issue 14: within 32 MiB over a
 * million predictions), since the plans per worker and the kernels per ops are bounded.
 *
 * <p>{@code scripts/bench-soak [predictions] [callers]}; prints one line per tenth and a summary.
 */
public final class PredictorSoak {

    private PredictorSoak() {
    }

    public static void main(String[] args) throws Exception {
        long predictions = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        int callers = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        try (Model model = LeNet.create(10, 1); Predictor predictor = Predictor.builder(model).maxBatch(64).build()) {
            predictor.warmup();
            AtomicLong done = new AtomicLong();
            long tenth = predictions / 10;
            long[] rss = new long[11];
            rss[0] = rssKiB();
            Thread[] threads = new Thread[callers];
            long start = System.nanoTime();
            for (int c = 0; c < callers; c++) {
                long seed = c;
                threads[c] = Thread.ofPlatform().name("soak caller " + c).uncaughtExceptionHandler((t, e) -> {
                    e.printStackTrace();
                    System.exit(1); // a failed prediction fails the soak
                }).start(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    float[][] batches = new float[65][]; // batches[n]: n images
                    for (int n = 1; n <= 64; n++) {
                        batches[n] = new float[n * 28 * 28];
                        for (int i = 0; i < batches[n].length; i++) {
                            batches[n][i] = (float) r.nextDouble();
                        }
                    }
                    while (true) {
                        int n = r.nextInt(4) == 0 ? 1 + r.nextInt(64) : 1; // mostly single images, a quarter ragged batches
                        long before = done.getAndAdd(n);
                        if (before >= predictions) {
                            return;
                        }
                        predictor.predict(batches[n], n);
                        long after = before + n;
                        if (after / tenth != before / tenth && after / tenth <= 10) {
                            int k = (int) (after / tenth);
                            rss[k] = rssKiB();
                            System.out.printf("%,d predictions: RSS %,d KiB%n", k * tenth, rss[k]);
                        }
                    }
                });
            }
            for (Thread t : threads) {
                t.join();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long min = Long.MAX_VALUE, max = 0;
            for (int k = 1; k <= 10; k++) {
                if (rss[k] > 0) {
                    min = Math.min(min, rss[k]);
                    max = Math.max(max, rss[k]);
                }
            }
            System.out.printf("%,d predictions by %d callers in %.1f s (%,.0f/s); RSS after the first tenth %,d..%,d KiB "
                    + "(spread %,d KiB); %s%n", predictions, callers, seconds, predictions / seconds, min, max, max - min,
                    predictor.stats());
        }
    }

    private static long rssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/status", e);
        }
        return -1;
    }
}
