package dev.deepnet.lab.serve;

import dev.deepnet.data.FashionMnist;
import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.infer.Classification;
import dev.deepnet.infer.LatencyHistogram;
import dev.deepnet.infer.Predictor;
import dev.deepnet.io.ModelFile;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Model;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The serving load test ({@code scripts/bench-serve}): a {@link PredictionServer} on loopback and
 * the same {@link Predictor} called in process, each by 1, 4 and 16 concurrent clients, bounded in
 * requests and in time per level. Reports p50/p99 latency and requests per second for both, and
 * serve's share of the in-process throughput. The clients run in this JVM on the same cores as
 * the server (so the figures include what a client on the same machine costs).
 */
@Command(name = "bench-serve", mixinStandardHelpOptions = true,
        description = "Load-test deepnet serve over loopback against the same predictor in process.")
public final class ServeLoadTest implements Callable<Integer> {

    @Option(names = "--model", description = "a model file or .onnx (default: LeNet, 10 classes, seed 1, untrained: the speed is the same)")
    Path model;

    @Option(names = "--clients", split = ",", defaultValue = "1,4,16", description = "concurrent clients per level (default: ${DEFAULT-VALUE})")
    List<Integer> clients;

    @Option(names = "--requests", defaultValue = "20000", description = "requests per level and mode at most (default: ${DEFAULT-VALUE})")
    long requests;

    @Option(names = "--seconds", defaultValue = "20", description = "seconds per level and mode at most (default: ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--warmup", defaultValue = "500", description = "requests before each measurement, not counted (default: ${DEFAULT-VALUE})")
    long warmup;

    @Option(names = "--body", defaultValue = "json", description = "what a request carries: json (the model's floats) or png (a 28x28 grey image,"
            + " decoded on both sides) (default: ${DEFAULT-VALUE})")
    String body;

    @Option(names = "--threads", description = "the predictor's threads, one worker each (default: every core)")
    Integer threads;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One level's figures for one mode. */
    record Measured(int clients, long requests, double seconds, LatencyHistogram.Snapshot latency) {
        double perSecond() {
            return requests / seconds;
        }
    }

    /** One level: serve and in process. */
    record Row(Measured serve, Measured inProcess) {
        double ratio() {
            return serve.perSecond() / inProcess.perSecond();
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ServeLoadTest()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (!body.equals("json") && !body.equals("png")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--body must be json or png, got " + body);
        }
        if (requests < 1 || seconds <= 0 || warmup < 0 || clients.stream().anyMatch(c -> c < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--requests, --seconds and --clients must be positive, --warmup >= 0");
        }
        Path file = model;
        Path temp = null;
        if (file == null) {
            temp = Files.createTempFile("deepnet-bench-serve-", ".safetensors");
            try (Model lenet = LeNet.create(10, 1)) {
                ModelFile.save(lenet, temp, FashionMnist.CLASSES, ImagePreprocessing.grey(28, 28), Map.of());
            }
            file = temp;
        }
        try {
            int t = threads == null ? Predictor.defaultThreads() : threads;
            Predictor predictor = Predictor.load(file, b -> b.threads(t, 1).maxBatch(PredictionServer.DEFAULT_BATCH));
            out.printf(Locale.ROOT, "bench-serve: %s, input %s, %d workers, %s bodies; at most %d requests or %.0f s per level and mode%n",
                    model == null ? "LeNet (10 classes)" : file.getFileName(), predictor.model().sampleShape(), predictor.maxWorkers(), body,
                    requests, seconds);
            out.flush();
            List<Row> rows = run(predictor, body.equals("png"), clients, requests, seconds, warmup);
            out.print(table(rows));
            out.flush();
        } finally {
            if (temp != null) {
                Files.deleteIfExists(temp);
            }
        }
        return 0;
    }

    /**
     * Serves {@code predictor} (closed at the end) on a loopback port and measures each level of
     * {@code clients}: first over HTTP, then in process on the same predictor.
     */
    static List<Row> run(Predictor predictor, boolean png, List<Integer> clients, long requests, double seconds, long warmup)
            throws IOException, InterruptedException {
        List<byte[]> bodies = new ArrayList<>();
        List<float[]> samples = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(7);
        int size = Math.toIntExact(predictor.inputSize());
        ImagePreprocessing preprocessing = png ? predictor.preprocessing().orElseThrow(() -> new IllegalArgumentException(
                "--body png needs a model that takes images")) : null;
        for (int i = 0; i < 64; i++) {
            if (png) {
                bodies.add(pngOf(preprocessing, r));
            } else {
                float[] x = new float[size];
                StringBuilder sb = new StringBuilder(size * 12).append('[');
                for (int j = 0; j < size; j++) {
                    x[j] = (float) r.nextDouble();
                    sb.append(j == 0 ? "" : ",").append(x[j]);
                }
                samples.add(x);
                bodies.add(sb.append(']').toString().getBytes(StandardCharsets.US_ASCII));
            }
        }
        List<Row> rows = new ArrayList<>();
        PredictionServer.Settings settings = PredictionServer.Settings.at(new InetSocketAddress("127.0.0.1", 0));
        try (PredictionServer server = PredictionServer.start(predictor, settings)) {
            server.warmUp();
            String type = png ? "image/png" : "application/json";
            for (int c : clients) {
                Measured serve = measure(c, requests, seconds, warmup, () -> {
                    LoopbackClient client = new LoopbackClient(server.uri(), "/predict", type);
                    return new Request() {
                        @Override
                        public void send(long i) throws IOException {
                            int status = client.post(bodies.get((int) (i % bodies.size())));
                            if (status != 200) {
                                throw new IOException("HTTP " + status + ": " + new String(client.lastBody(), StandardCharsets.UTF_8).strip());
                            }
                        }

                        @Override
                        public void close() throws IOException {
                            client.close();
                        }
                    };
                });
                Measured local = measure(c, requests, seconds, warmup, () -> i -> {
                    Classification result = png
                            ? predictor.classify(preprocessing.apply(bodies.get((int) (i % bodies.size())), "body", settings.imageLimits()))
                            : predictor.classify(samples.get((int) (i % samples.size())));
                    if (result.classes() < 2) {
                        throw new IllegalStateException("no classification");
                    }
                });
                rows.add(new Row(serve, local));
            }
        }
        return rows;
    }

    private static byte[] pngOf(ImagePreprocessing p, SplittableRandom r) throws IOException {
        BufferedImage img = new BufferedImage(p.width(), p.height(), p.channels() == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < p.height(); y++) {
            for (int x = 0; x < p.width(); x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(img, "png", bytes);
        return bytes.toByteArray();
    }

    /** One client's request i (any i; a request's body is chosen from it); closed when the client is done. */
    interface Request extends AutoCloseable {
        void send(long i) throws Exception;

        @Override
        default void close() throws Exception {}
    }

    /** A client: made on its own thread, closed there. */
    interface ClientFactory {
        Request open() throws Exception;
    }

    /**
     * {@code clients} threads sending requests until {@code requests} are done or {@code seconds}
     * have passed, after {@code warmup} requests shared among them; every request timed.
     */
    static Measured measure(int clients, long requests, double seconds, long warmup, ClientFactory factory) throws InterruptedException {
        AtomicLong warm = new AtomicLong(warmup);
        AtomicLong left = new AtomicLong(requests);
        AtomicLong done = new AtomicLong();
        LatencyHistogram latency = new LatencyHistogram();
        CountDownLatch warmed = new CountDownLatch(clients);
        CountDownLatch go = new CountDownLatch(1);
        long[] window = new long[2]; // start, end of the measured part, nanos
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            long first = c * 7919L;
            threads.add(Thread.ofPlatform().name("bench-serve-client-" + c).start(() -> {
                boolean counted = false;
                try (Request request = factory.open()) {
                    long i = first;
                    while (warm.getAndDecrement() > 0) {
                        request.send(i++);
                    }
                    counted = true;
                    warmed.countDown();
                    go.await();
                    long deadline = window[0] + (long) (seconds * 1e9);
                    while (left.getAndDecrement() > 0 && System.nanoTime() < deadline) {
                        long t0 = System.nanoTime();
                        request.send(i++);
                        latency.record(System.nanoTime() - t0);
                        done.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    if (!counted) {
                        warmed.countDown(); // a client that failed warming up does not hold the others
                    }
                }
            }));
        }
        warmed.await();
        window[0] = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        window[1] = System.nanoTime();
        if (!failures.isEmpty()) {
            Throwable f = failures.get(0);
            throw new IllegalStateException(failures.size() + " of " + clients + " clients failed; the first: " + f, f);
        }
        return new Measured(clients, done.get(), (window[1] - window[0]) / 1e9, latency.snapshot());
    }

    /** The figures as a Markdown table, as bench/README.md shows them. */
    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| clients | serve requests/s | serve p50 | serve p99 | in-process calls/s | in-process p50 | in-process p99 | serve / in-process |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %d | %,.0f | %s | %s | %,.0f | %s | %s | %.0f %% |%n", r.serve().clients(), r.serve().perSecond(),
                    ms(r.serve().latency().p50()), ms(r.serve().latency().p99()), r.inProcess().perSecond(), ms(r.inProcess().latency().p50()),
                    ms(r.inProcess().latency().p99()), 100 * r.ratio()));
        }
        sb.append(String.format(Locale.ROOT, "(%s requests per level over HTTP; latencies within 6.25 %%)%n",
                rows.stream().map(r -> Long.toString(r.serve().requests())).reduce((a, b) -> a + ", " + b).orElse("no")));
        return sb.toString();
    }

    private static String ms(java.time.Duration d) {
        return String.format(Locale.ROOT, "%.2f ms", d.toNanos() / 1e6);
    }
}
