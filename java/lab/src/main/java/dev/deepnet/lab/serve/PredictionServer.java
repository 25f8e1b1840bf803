package dev.deepnet.lab.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.deepnet.data.DataFormatException;
import dev.deepnet.data.DataLimits;
import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.infer.Classification;
import dev.deepnet.infer.LatencyHistogram;
import dev.deepnet.infer.Predictor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link Predictor} over HTTP, on the JDK's own server ({@code com.sun.net.httpserver}: no
 * dependency, in every JDK, and each exchange on a virtual thread of its own, so a request waiting
 * for a worker costs no platform thread).
 *
 * <ul>
 *   <li>{@code POST /predict[?top=k]}: the body is an image (PNG, JPEG, BMP, GIF; by its
 *       {@code Content-Type} {@code image/*}, or else by its first bytes) made into the model's input
 *       by the predictor's {@link ImagePreprocessing}, or a JSON array of the model's input floats
 *       ({@code application/json}, or a body starting with {@code [}). The answer is
 *       {@link JsonText#classification}: the best class, the {@code k} most probable (default 5), and
 *       how an image was converted.
 *   <li>{@code GET /health}: 200 and the model's outline once {@link #warmUp warmed up}; 503 before
 *       and while shutting down.
 *   <li>{@code GET /metrics}: Prometheus text (0.0.4): requests by path and status, in flight,
 *       request durations, and the predictor's {@link Predictor#stats()}.
 * </ul>
 *
 * <p>Bad requests get a 4xx and a one-line JSON reason ({@code {"error": "..."}}): 400 for a body
 * that is not the JSON or image it should be, or does not fit the model; 404; 405 with
 * {@code Allow}; 413 past {@link Settings#maxBodyBytes()}; 415 for a body that is neither. A 500
 * means a bug: logged once with its stack trace (which the client never sees). {@link #close}
 * stops accepting connections, lets the requests in flight finish within
 * {@link Settings#drain()}, then closes the predictor.
 */
public final class PredictionServer implements AutoCloseable {

    static {
        // The JDK server leaves Nagle's algorithm on; a small response written as headers then body would
        // then wait for the client's delayed ACK (40 ms) on every keep-alive request. Read once, when the
        // server classes load, so it is set here unless the user chose.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private static final System.Logger LOG = System.getLogger(PredictionServer.class.getName());

    /** Paths with their own request counts; anything else counts as "other". */
    private static final String PREDICT = "/predict";
    private static final String HEALTH = "/health";
    private static final String METRICS = "/metrics";

    /**
     * How a server runs.
     *
     * @param address       where to listen (port 0: any free port, see {@link #port()})
     * @param maxBodyBytes  the largest request body read; larger ones get 413
     * @param imageLimits   what an image may declare before it is decoded (pixels: a small PNG can declare gigapixels)
     * @param drain         how long {@link #close} waits for requests in flight
     * @param maxBodiesRead how many request bodies are read and held at once; further requests wait for their turn
     */
    public record Settings(InetSocketAddress address, long maxBodyBytes, DataLimits imageLimits, Duration drain, int maxBodiesRead) {
        public Settings {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(imageLimits, "imageLimits");
            Objects.requireNonNull(drain, "drain");
            if (maxBodyBytes < 1 || maxBodyBytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("maxBodyBytes must be in [1, 2^31 - 9], got " + maxBodyBytes);
            }
            if (drain.isNegative()) {
                throw new IllegalArgumentException("drain must not be negative, got " + drain);
            }
            if (maxBodiesRead < 1) {
                throw new IllegalArgumentException("maxBodiesRead must be >= 1, got " + maxBodiesRead);
            }
        }

        /** Defaults at {@code address}: bodies up to 16 MiB, images up to 4096 x 4096 pixels, 10 s to drain, 64 bodies at once. */
        public static Settings at(InetSocketAddress address) {
            return new Settings(address, DEFAULT_MAX_BODY_BYTES, DataLimits.fromSystemProperties().withMaxImagePixels(DEFAULT_MAX_PIXELS),
                    Duration.ofSeconds(10), 64);
        }

        public Settings withMaxBodyBytes(long bytes) {
            return new Settings(address, bytes, imageLimits, drain, maxBodiesRead);
        }

        public Settings withMaxImagePixels(long pixels) {
            return new Settings(address, maxBodyBytes, imageLimits.withMaxImagePixels(pixels), drain, maxBodiesRead);
        }

        public Settings withDrain(Duration drain) {
            return new Settings(address, maxBodyBytes, imageLimits, drain, maxBodiesRead);
        }
    }

    public static final long DEFAULT_MAX_BODY_BYTES = 16L << 20;
    public static final long DEFAULT_MAX_PIXELS = 4096L * 4096;
    /**
     * The predictor's maxBatch {@code deepnet serve} sets: up to this many concurrent requests are
     * classified in one call ({@link RequestBatcher}); a predictor with maxBatch 1 classifies each alone.
     */
    public static final int DEFAULT_BATCH = 16;

    private final Predictor predictor;
    private final Settings settings;
    private final HttpServer server;
    private final ExecutorService executor;
    private final Semaphore bodies;
    private final int defaultTop;
    private final RequestBatcher batcher; // concurrent requests classified together, up to the predictor's maxBatch

    private volatile boolean ready;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final long startedNanos = System.nanoTime();

    private final Map<String, LongAdder> requestsByPathAndStatus = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final LatencyHistogram predictDuration = new LatencyHistogram();
    private final AtomicLong internalErrors = new AtomicLong();

    private PredictionServer(Predictor predictor, Settings settings) throws IOException {
        this.predictor = predictor;
        this.settings = settings;
        this.bodies = new Semaphore(settings.maxBodiesRead(), true);
        this.defaultTop = Math.min(5, predictor.classes().classes());
        this.server = HttpServer.create(settings.address(), 0);
        this.executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("deepnet-serve-", 0).factory());
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        this.batcher = new RequestBatcher(predictor);
    }

    /**
     * Listens at {@code settings.address()} and serves {@code predictor}, which the server then
     * owns: {@link #close} closes it. Call {@link #warmUp} next (until then {@code /health} says 503,
     * though {@code /predict} already answers).
     *
     * @throws IllegalArgumentException when the predictor's model does not output class scores
     * @throws IOException when the address cannot be bound (in use, not local)
     */
    public static PredictionServer start(Predictor predictor, Settings settings) throws IOException {
        if (!predictor.isClassifier()) {
            predictor.classes(); // says why
        }
        PredictionServer s = new PredictionServer(predictor, settings);
        s.server.start();
        return s;
    }

    /** Makes every predictor worker ({@link Predictor#warmup}), then reports healthy. */
    public void warmUp() {
        predictor.warmup();
        ready = true;
    }

    /** The port listened on (the one chosen when the settings asked for port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://host:port} of this server. */
    public URI uri() {
        InetSocketAddress a = server.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort());
    }

    /** Requests being handled now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Requests answered so far, any status. */
    public long requests() {
        return requestsByPathAndStatus.values().stream().mapToLong(LongAdder::sum).sum();
    }

    public Predictor predictor() {
        return predictor;
    }

    /** A reason for the client and its status: thrown inside a handler, answered as {@code {"error": ...}}. */
    private static final class Refusal extends Exception {
        final int status;
        final String allow; // for 405

        Refusal(int status, String reason) {
            this(status, reason, null);
        }

        Refusal(int status, String reason, String allow) {
            super(reason, null, false, false); // no stack trace: it is an answer, not a failure
            this.status = status;
            this.allow = allow;
        }
    }

    private void handle(HttpExchange exchange) {
        long started = System.nanoTime();
        inFlight.incrementAndGet();
        String path = exchange.getRequestURI().getRawPath();
        String counted = switch (path) {
            case PREDICT, HEALTH, METRICS -> path;
            default -> "other";
        };
        int status = 500;
        try {
            Response r;
            try {
                r = switch (path) {
                    case PREDICT -> predict(exchange);
                    case HEALTH -> health(exchange);
                    case METRICS -> metrics(exchange);
                    default -> throw new Refusal(404, "no such endpoint: " + printable(path) + " (try POST /predict, GET /health, GET /metrics)");
                };
            } catch (Refusal e) {
                if (e.allow != null) {
                    exchange.getResponseHeaders().set("Allow", e.allow);
                }
                r = Response.json(e.status, JsonText.error(e.getMessage()));
            } catch (RuntimeException | Error e) {
                r = failure(exchange, e);
            }
            status = r.status;
            send(exchange, r);
        } catch (IOException e) {
            // The client went away (or stopped sending) before it was answered: nothing to tell it, nothing
            // wrong here. Counted as nginx does, 499.
            status = 499;
        } finally {
            exchange.close();
            requestsByPathAndStatus.computeIfAbsent(counted + " " + status, k -> new LongAdder()).increment();
            if (counted.equals(PREDICT)) {
                predictDuration.record(System.nanoTime() - started);
            }
            inFlight.decrementAndGet();
        }
    }

    private Response failure(HttpExchange exchange, Throwable e) {
        if (closing.get() && e instanceof IllegalStateException) {
            return Response.json(503, JsonText.error("the server is shutting down"));
        }
        long n = internalErrors.incrementAndGet();
        LOG.log(System.Logger.Level.ERROR, "internal error #" + n + " answering " + exchange.getRequestMethod() + " "
                + exchange.getRequestURI(), e);
        return Response.json(500, JsonText.error("internal error #" + n + " (logged by the server)"));
    }

    private record Response(int status, String contentType, byte[] body) {
        static Response json(int status, String text) {
            return new Response(status, "application/json", text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void send(HttpExchange exchange, Response r) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", r.contentType);
        exchange.sendResponseHeaders(r.status, r.body.length == 0 ? -1 : r.body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(r.body);
        }
    }

    private static void requireMethod(HttpExchange exchange, String method) throws Refusal {
        if (!exchange.getRequestMethod().equals(method)) {
            throw new Refusal(405, exchange.getRequestMethod() + " is not allowed on " + exchange.getRequestURI().getRawPath()
                    + "; use " + method, method);
        }
    }

    private Response predict(HttpExchange exchange) throws Refusal, IOException {
        requireMethod(exchange, "POST");
        int top = top(exchange.getRequestURI().getRawQuery());
        bodies.acquireUninterruptibly();
        Classification c;
        try {
            byte[] body = body(exchange);
            c = classify(body, exchange.getRequestHeaders().getFirst("Content-Type"));
        } finally {
            bodies.release();
        }
        return Response.json(200, JsonText.classification(c, top));
    }

    /** {@code top=k} from the query (default: 5, or fewer classes); anything else refused. */
    private int top(String query) throws Refusal {
        if (query == null || query.isEmpty()) {
            return defaultTop;
        }
        int top = defaultTop;
        for (String part : query.split("&")) {
            int eq = part.indexOf('=');
            String name = eq < 0 ? part : part.substring(0, eq);
            String value = eq < 0 ? "" : part.substring(eq + 1);
            if (!name.equals("top")) {
                throw new Refusal(400, "unknown query parameter '" + printable(name) + "' (known: top)");
            }
            try {
                top = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                top = 0;
            }
            if (top < 1) {
                throw new Refusal(400, "top must be a whole number >= 1, got '" + printable(value) + "'");
            }
        }
        return Math.min(top, predictor.classes().classes());
    }

    private static String printable(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** The request body, refused past the limit before reading (Content-Length) or as soon as it passes it (chunked). */
    private byte[] body(HttpExchange exchange) throws Refusal, IOException {
        long max = settings.maxBodyBytes();
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long declared;
            try {
                declared = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                declared = -1;
            }
            if (declared > max) {
                throw new Refusal(413, "the body is " + declared + " bytes; this server takes at most " + max + " (--max-body)");
            }
        }
        try (InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readNBytes((int) max + 1);
            if (body.length > max) {
                throw new Refusal(413, "the body is more than " + max + " bytes; this server takes at most " + max + " (--max-body)");
            }
            return body;
        }
    }

    private Classification classify(byte[] body, String contentType) throws Refusal {
        String type = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        boolean json = type.equals("application/json") || (!type.startsWith("image/") && looksLikeJson(body));
        boolean image = type.startsWith("image/") || (!json && looksLikeImage(body));
        if (json) {
            return classifyFloats(body);
        }
        if (image) {
            return classifyImage(body);
        }
        throw new Refusal(415, "the body is neither an image nor a JSON array (Content-Type " + (type.isEmpty() ? "none" : printable(type))
                + "): send a PNG or JPEG image (image/png, image/jpeg) or a JSON array of " + predictor.inputSize()
                + " floats (application/json)");
    }

    private Classification classifyFloats(byte[] body) throws Refusal {
        float[] sample;
        try {
            sample = FloatArrayJson.parse(body);
        } catch (FloatArrayJson.NotAnArray e) {
            throw new Refusal(400, "the body is not a JSON array of numbers: " + e.getMessage());
        }
        if (sample.length != predictor.inputSize()) {
            throw new Refusal(400, "the model takes " + predictor.inputSize() + " floats (a sample of " + predictor.model().sampleShape()
                    + "), got " + sample.length);
        }
        return batcher.classify(sample);
    }

    private Classification classifyImage(byte[] body) throws Refusal {
        ImagePreprocessing preprocessing = predictor.preprocessing().orElseThrow(() -> new Refusal(400, "this model takes "
                + predictor.inputSize() + " floats (a sample of " + predictor.model().sampleShape() + "), not images: send a JSON array"));
        ImagePreprocessing.Prepared prepared;
        try {
            prepared = preprocessing.apply(body, "the image", settings.imageLimits());
        } catch (DataFormatException e) {
            throw new Refusal(400, e.getMessage());
        } catch (IllegalArgumentException e) { // the preprocessing refuses images of another size or colour
            throw new Refusal(400, e.getMessage());
        } catch (IOException e) {
            throw new Refusal(400, "the image cannot be read: " + e.getMessage());
        }
        return batcher.classify(prepared.sample()).withConversions(prepared.conversions());
    }

    private static boolean looksLikeJson(byte[] b) {
        for (byte x : b) {
            if (x != ' ' && x != '\t' && x != '\n' && x != '\r') {
                return x == '[';
            }
        }
        return false;
    }

    /** PNG, JPEG, GIF or BMP by their magic numbers. */
    private static boolean looksLikeImage(byte[] b) {
        return starts(b, 0x89, 'P', 'N', 'G') || starts(b, 0xff, 0xd8, 0xff) || starts(b, 'G', 'I', 'F', '8') || starts(b, 'B', 'M');
    }

    private static boolean starts(byte[] b, int... prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((b[i] & 0xff) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private Response health(HttpExchange exchange) throws Refusal {
        requireMethod(exchange, "GET");
        String status = closing.get() ? "shutting down" : ready ? "ok" : "warming up";
        StringBuilder sb = new StringBuilder("{\"status\": ");
        JsonText.quote(sb, status);
        sb.append(", \"input\": ").append(Arrays.toString(predictor.model().sampleShape().dims()).replace(" ", ""))
                .append(", \"classes\": ").append(predictor.classes().classes())
                .append(", \"workers\": ").append(predictor.workers()).append(", \"maxWorkers\": ").append(predictor.maxWorkers())
                .append(", \"uptimeSeconds\": ").append((System.nanoTime() - startedNanos) / 1_000_000_000L).append("}\n");
        return Response.json(status.equals("ok") ? 200 : 503, sb.toString());
    }

    private Response metrics(HttpExchange exchange) throws Refusal {
        requireMethod(exchange, "GET");
        return new Response(200, PrometheusText.CONTENT_TYPE, metricsText().getBytes(StandardCharsets.UTF_8));
    }

    /** The {@code /metrics} page. */
    String metricsText() {
        Predictor.Stats s = predictor.stats();
        PrometheusText t = new PrometheusText();
        t.family("deepnet_http_requests_total", "counter", "HTTP requests answered, by path (/predict, /health, /metrics, other) and status.");
        requestsByPathAndStatus.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            String[] pathStatus = e.getKey().split(" ", 2);
            t.sample("deepnet_http_requests_total", e.getValue().sum(), "path", pathStatus[0], "status", pathStatus[1]);
        });
        t.family("deepnet_http_requests_in_flight", "gauge", "HTTP requests being handled now.").sample("deepnet_http_requests_in_flight",
                inFlight.get());
        t.family("deepnet_http_internal_errors_total", "counter", "Requests answered 500: bugs, each logged with its stack trace.")
                .sample("deepnet_http_internal_errors_total", internalErrors.get());
        t.histogram("deepnet_http_predict_duration_seconds", "POST /predict from its headers read to its answer written: body, decoding,"
                + " waiting and computing.", predictDuration.snapshot());
        t.family("deepnet_predictor_calls_total", "counter", "Predictor calls that ran on a worker, successful or not.")
                .sample("deepnet_predictor_calls_total", s.calls());
        t.family("deepnet_predictor_samples_total", "counter", "Samples in the predictor calls that succeeded.")
                .sample("deepnet_predictor_samples_total", s.samples());
        t.family("deepnet_predictor_errors_total", "counter", "Predictor calls that threw.").sample("deepnet_predictor_errors_total", s.errors());
        t.family("deepnet_predictor_workers", "gauge", "Predictor workers made so far.").sample("deepnet_predictor_workers", s.workers());
        t.family("deepnet_predictor_max_workers", "gauge", "The most predictor workers (threads / threads per worker).")
                .sample("deepnet_predictor_max_workers", predictor.maxWorkers());
        t.family("deepnet_predictor_plans_compiled_total", "counter", "Inference plans compiled by every worker.")
                .sample("deepnet_predictor_plans_compiled_total", s.plansCompiled());
        t.summary("deepnet_predictor_latency_seconds", "A predictor call from being made to its result, waiting for a worker included.",
                s.latency());
        t.summary("deepnet_predictor_queue_wait_seconds", "A predictor call's time waiting for a free worker.", s.waiting());
        return t.toString();
    }

    /**
     * Stops accepting connections, lets the requests in flight finish (for at most
     * {@link Settings#drain()}), then closes the predictor. Later calls wait for the first to end.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            awaitClosed();
            return;
        }
        try {
            long drainSeconds = Math.max(0, (settings.drain().toMillis() + 999) / 1000);
            server.stop((int) Math.min(Integer.MAX_VALUE, drainSeconds)); // returns as soon as no exchange is in flight
            executor.shutdown();
            try {
                if (!executor.awaitTermination(1, TimeUnit.SECONDS)) {
                    executor.shutdownNow(); // past the drain: handlers still reading from closed connections
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } finally {
            try {
                batcher.close(); // the handlers have stopped: classifies what still waits, then its threads end
                predictor.close(); // waits for any call still running
            } finally {
                closed.countDown();
            }
        }
    }

    /** Returns once {@link #close} has finished. */
    public void awaitClosed() {
        boolean interrupted = false;
        while (closed.getCount() > 0) {
            try {
                closed.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
