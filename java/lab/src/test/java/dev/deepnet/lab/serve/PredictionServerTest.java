package dev.deepnet.lab.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.infer.Classification;
import dev.deepnet.infer.Predictor;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.tensor.Shape;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server in this JVM on an ephemeral loopback port: every endpoint, every class of error, concurrency, shutdown. */
class PredictionServerTest {

    static final List<String> LABELS = List.of("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt");

    static Model convnet() {
        return Model.sequential(Shape.of(1, 28, 28), 5, new Conv2d(1, 4, 5, 1, 2), new Relu(), new MaxPool2d(2, 2), new Flatten(),
                new Dense(4 * 14 * 14, LABELS.size()));
    }

    static Predictor predictor() {
        return Predictor.builder(convnet()).ownModel().labels(LABELS).preprocessing(ImagePreprocessing.grey(28, 28)).threads(2, 1)
                .maxBatch(1).build();
    }

    static PredictionServer start(Predictor p, long maxBody, Duration drain) throws IOException {
        return PredictionServer.start(p, PredictionServer.Settings.at(new InetSocketAddress("127.0.0.1", 0)).withMaxBodyBytes(maxBody)
                .withMaxImagePixels(1 << 20).withDrain(drain));
    }

    private PredictionServer server;
    private Predictor oracle; // the same model in process, to compare answers with
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void startServer() throws IOException {
        server = start(predictor(), 64 * 1024, Duration.ofSeconds(5));
        oracle = predictor();
    }

    @AfterEach
    void stop() {
        server.close();
        oracle.close();
        http.close();
    }

    static float[] sample(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[28 * 28];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        return x;
    }

    static String json(float[] x) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < x.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(x[i]);
        }
        return sb.append(']').toString();
    }

    static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    static BufferedImage photo(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(30, 160, 90));
        g.fillOval(w / 4, h / 4, w / 2, h / 2);
        g.dispose();
        return img;
    }

    HttpResponse<String> post(String pathAndQuery, String contentType, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri().resolve(pathAndQuery)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(server.uri().resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static final Pattern PROBABILITY = Pattern.compile("\"label\": \"([^\"]+)\", \"index\": (\\d+), \"probability\": ([0-9.Ee-]+)");

    /** The (label, index, probability) triples of a /predict answer: the best first, then the top k. */
    static List<String[]> classes(String body) {
        List<String[]> out = new ArrayList<>();
        Matcher m = PROBABILITY.matcher(body);
        while (m.find()) {
            out.add(new String[] {m.group(1), m.group(2), m.group(3)});
        }
        return out;
    }

    static void assertMatches(Classification expected, String body, int top) {
        List<String[]> got = classes(body);
        assertEquals(1 + top, got.size(), body);
        assertEquals(expected.best().label(), got.get(0)[0], body);
        for (int i = 0; i < top; i++) {
            var e = expected.top(top).get(i);
            assertEquals(e.label(), got.get(1 + i)[0], body);
            assertEquals(e.index(), Integer.parseInt(got.get(1 + i)[1]), body);
            assertEquals(e.probability(), Float.parseFloat(got.get(1 + i)[2]), 1e-6f, body);
        }
    }

    /** An error answer: the status, JSON with one line of reason, no stack trace. */
    static String assertRefused(HttpResponse<String> r, int status, String reasonContains) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(r.body().startsWith("{\"error\": \"") && r.body().endsWith("\"}\n"), r.body());
        assertEquals(1, r.body().lines().count(), r.body());
        assertFalse(r.body().contains("Exception") || r.body().contains("\tat ") || r.body().contains("dev.deepnet."), r.body());
        assertTrue(r.body().contains(reasonContains), r.body());
        return r.body();
    }

    @Test
    void predictTakesJsonFloatsAndImagesAndAnswersAsTheInProcessPredictor() throws Exception {
        float[] x = sample(1);
        HttpResponse<String> r = post("/predict", "application/json", json(x).getBytes(StandardCharsets.US_ASCII));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        assertMatches(oracle.classify(x), r.body(), 5);
        assertTrue(r.body().endsWith("\"conversions\": []}\n"), r.body());

        r = post("/predict?top=3", null, json(x).getBytes(StandardCharsets.US_ASCII)); // no Content-Type: sniffed
        assertEquals(200, r.statusCode(), r.body());
        assertMatches(oracle.classify(x), r.body(), 3);
        r = post("/predict?top=100", "application/x-www-form-urlencoded", json(x).getBytes(StandardCharsets.US_ASCII)); // curl -d's type
        assertMatches(oracle.classify(x), r.body(), LABELS.size());

        byte[] image = png(photo(64, 48));
        r = post("/predict", "image/png", image);
        assertEquals(200, r.statusCode(), r.body());
        Classification expected = oracle.classify(photo(64, 48));
        assertMatches(expected, r.body(), 5);
        assertTrue(r.body().contains("\"conversions\": [\"converted colour to grey\", \"resized 64x48 to 28x28"), r.body());
        r = post("/predict", "application/octet-stream", image); // by its magic bytes
        assertMatches(expected, r.body(), 5);

        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        ImageIO.write(photo(28, 28), "jpeg", jpeg);
        r = post("/predict?top=1", "image/jpeg", jpeg.toByteArray());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(2, classes(r.body()).size());
    }

    @Test
    void badInputGetsFourHundredsWithAOneLineReason() throws Exception {
        byte[] ok = json(sample(2)).getBytes(StandardCharsets.US_ASCII);
        assertRefused(post("/predict", "application/json", "[1, 2,".getBytes(StandardCharsets.US_ASCII)), 400,
                "the body is not a JSON array of numbers: expected a number, found the end of the body at byte 6");
        assertRefused(post("/predict", "application/json", "{\"x\": 1}".getBytes(StandardCharsets.US_ASCII)), 400, "expected a JSON array");
        assertRefused(post("/predict", "application/json", "[NaN]".getBytes(StandardCharsets.US_ASCII)), 400, "expected a number");
        assertRefused(post("/predict", "application/json", "[1e99]".getBytes(StandardCharsets.US_ASCII)), 400, "out of the float range");
        assertRefused(post("/predict", "application/json", "[1, 2, 3]".getBytes(StandardCharsets.US_ASCII)), 400,
                "the model takes 784 floats (a sample of (1, 28, 28)), got 3");
        assertRefused(post("/predict", "application/json", new byte[0]), 400, "the body is empty");
        assertRefused(post("/predict", "image/png", "not a png".getBytes(StandardCharsets.US_ASCII)), 400, "the image: unreadable image");
        assertRefused(post("/predict", "image/png", png(new BufferedImage(2048, 1024, BufferedImage.TYPE_BYTE_GRAY))), 400,
                "more than the limit of 1048576");
        assertRefused(post("/predict", "text/plain", "hello".getBytes(StandardCharsets.US_ASCII)), 415,
                "send a PNG or JPEG image (image/png, image/jpeg) or a JSON array of 784 floats (application/json)");
        assertRefused(post("/predict?top=0", "application/json", ok), 400, "top must be a whole number >= 1, got '0'");
        assertRefused(post("/predict?top=x", "application/json", ok), 400, "got 'x'");
        assertRefused(post("/predict?limit=3", "application/json", ok), 400, "unknown query parameter 'limit' (known: top)");
        assertRefused(post("/nowhere", "application/json", ok), 404, "no such endpoint: /nowhere");
        assertRefused(get("/"), 404, "try POST /predict");

        HttpResponse<String> r = assertRefusedWithAllow(get("/predict"), "POST");
        assertTrue(r.body().contains("GET is not allowed on /predict; use POST"), r.body());
        assertRefusedWithAllow(post("/health", null, new byte[0]), "GET");
        assertRefusedWithAllow(post("/metrics", null, new byte[0]), "GET");

        assertEquals(0, server.predictor().stats().errors(), "bad requests never reach the predictor");
        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("deepnet_http_requests_total{path=\"/predict\",status=\"400\"} 11"), metrics);
        assertTrue(metrics.contains("deepnet_http_requests_total{path=\"/predict\",status=\"405\"} 1"), metrics);
        assertTrue(metrics.contains("deepnet_http_requests_total{path=\"/predict\",status=\"415\"} 1"), metrics);
        assertTrue(metrics.contains("deepnet_http_requests_total{path=\"other\",status=\"404\"} 2"), metrics);
        assertTrue(metrics.contains("deepnet_http_internal_errors_total 0"), metrics);
    }

    private static HttpResponse<String> assertRefusedWithAllow(HttpResponse<String> r, String allow) {
        assertRefused(r, 405, "is not allowed");
        assertEquals(allow, r.headers().firstValue("Allow").orElse(""));
        return r;
    }

    /** A raw HTTP/1.1 exchange: the request bytes, then everything the server sends until it closes or {@code Connection: close}. */
    static String raw(URI uri, byte[] request) throws IOException {
        try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void bodiesPastTheLimitGet413BeforeOrWhileTheyAreRead() throws Exception {
        String declared = raw(server.uri(), ("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        assertTrue(declared.startsWith("HTTP/1.1 413"), declared);
        assertTrue(declared.contains("{\"error\": \"the body is 100000000 bytes; this server takes at most 65536 (--max-body)\"}"), declared);

        ByteArrayOutputStream chunked = new ByteArrayOutputStream();
        chunked.write(("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        byte[] chunk = new byte[16 * 1024];
        java.util.Arrays.fill(chunk, (byte) ' ');
        for (int i = 0; i < 5; i++) { // 80 KiB of spaces, no length declared
            chunked.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            chunked.write(chunk);
            chunked.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        chunked.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String streamed = raw(server.uri(), chunked.toByteArray());
        assertTrue(streamed.startsWith("HTTP/1.1 413"), streamed);
        assertTrue(streamed.contains("the body is more than 65536 bytes"), streamed);

        HttpResponse<String> fits = post("/predict", "application/json", json(sample(3)).getBytes(StandardCharsets.US_ASCII));
        assertEquals(200, fits.statusCode(), "a body under the limit still works: " + fits.body());
    }

    @Test
    void healthIsUpOnceWarmAndMetricsAreInPrometheusTextFormat() throws Exception {
        HttpResponse<String> cold = get("/health");
        assertEquals(503, cold.statusCode());
        assertTrue(cold.body().startsWith("{\"status\": \"warming up\""), cold.body());
        server.warmUp();
        HttpResponse<String> h = get("/health");
        assertEquals(200, h.statusCode(), h.body());
        assertTrue(h.body().matches("\\{\"status\": \"ok\", \"input\": \\[1,28,28\\], \"classes\": 7, \"workers\": 2, \"maxWorkers\": 2,"
                + " \"uptimeSeconds\": \\d+}\n"), h.body());

        for (int i = 0; i < 3; i++) {
            post("/predict", "application/json", json(sample(i)).getBytes(StandardCharsets.US_ASCII));
        }
        HttpResponse<String> m = get("/metrics");
        assertEquals(200, m.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", m.headers().firstValue("Content-Type").orElseThrow());
        String text = m.body();
        assertTrue(text.contains("deepnet_http_requests_total{path=\"/predict\",status=\"200\"} 3\n"), text);
        assertTrue(text.contains("deepnet_http_requests_total{path=\"/health\",status=\"503\"} 1\n"), text);
        assertTrue(text.contains("deepnet_http_requests_total{path=\"/health\",status=\"200\"} 1\n"), text);
        assertTrue(text.contains("# TYPE deepnet_http_predict_duration_seconds histogram\n"), text);
        assertTrue(text.contains("deepnet_http_predict_duration_seconds_bucket{le=\"0.0001\"} "), text);
        assertTrue(text.contains("deepnet_http_predict_duration_seconds_bucket{le=\"+Inf\"} 3\n"), text);
        assertTrue(text.contains("deepnet_http_predict_duration_seconds_count 3\n"), text);
        assertTrue(text.contains("deepnet_predictor_calls_total 3\n"), text);
        assertTrue(text.contains("deepnet_predictor_samples_total 3\n"), text);
        assertTrue(text.contains("deepnet_predictor_errors_total 0\n"), text);
        assertTrue(text.contains("deepnet_predictor_workers 2\n") && text.contains("deepnet_predictor_max_workers 2\n"), text);
        assertTrue(text.contains("# TYPE deepnet_predictor_latency_seconds summary\n"), text);
        assertTrue(text.contains("deepnet_predictor_latency_seconds{quantile=\"0.99\"} "), text);
        assertTrue(text.contains("deepnet_predictor_queue_wait_seconds_count 3\n"), text);
        assertPrometheusTextFormat(text);
    }

    /** Every line a HELP, a TYPE before the family's samples, or a sample with a number; histogram buckets cumulative. */
    static void assertPrometheusTextFormat(String text) {
        assertTrue(text.endsWith("\n"));
        Pattern sample = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\\\\\n]*\",?)*})? (\\S+)");
        String typed = null;
        long lastBucket = -1;
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] f = line.split(" ");
                assertEquals(4, f.length, line);
                assertTrue(List.of("counter", "gauge", "histogram", "summary").contains(f[3]), line);
                typed = f[2];
                lastBucket = -1;
                continue;
            }
            Matcher m = sample.matcher(line);
            assertTrue(m.matches(), "not a sample line: " + line);
            assertTrue(typed != null && m.group(1).startsWith(typed), "a sample outside its family: " + line);
            double v = Double.parseDouble(m.group(4));
            assertTrue(v >= 0, line);
            if (m.group(1).endsWith("_bucket")) {
                assertTrue(v >= lastBucket, "buckets are cumulative: " + line);
                lastBucket = (long) v;
            }
        }
    }

    interface Request {
        void send(int client, int i) throws Exception;
    }

    /** {@code clients} threads each make {@code each} requests at once; returns how many completed (every failure fails the test). */
    static int concurrently(int clients, int each, Request request) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        request.send(client, i);
                    }
                    return each;
                }));
            }
            int total = 0;
            for (Future<Integer> f : done) {
                total += f.get();
            }
            return total;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentRequestsAreClassifiedInBatchesAndEachGetsItsOwnAnswer() throws Exception {
        server.close();
        server = start(Predictor.builder(convnet()).ownModel().labels(LABELS).preprocessing(ImagePreprocessing.grey(28, 28))
                .threads(2, 1).maxBatch(8).build(), 64 * 1024, Duration.ofSeconds(5));
        int clients = 16;
        int each = 10;
        assertEquals(clients * each, concurrently(clients, each, (client, i) -> {
            float[] x = sample(client * 1000L + i);
            HttpResponse<String> r = i % 2 == 0
                    ? post("/predict?top=2", "application/json", json(x).getBytes(StandardCharsets.US_ASCII))
                    : post("/predict?top=2", "image/png", png(photo(40 + client, 30 + i)));
            assertEquals(200, r.statusCode(), r.body());
            // its own sample's answer, whatever batch it was in
            assertMatches(i % 2 == 0 ? oracle.classify(x) : oracle.classify(photo(40 + client, 30 + i)), r.body(), 2);
        }));
        Predictor.Stats s = server.predictor().stats();
        assertEquals(clients * each, s.samples(), s.toString());
        assertTrue(s.calls() <= s.samples(), s.toString());
        assertEquals(0, s.errors(), s.toString());
    }

    @Test
    void sixteenConcurrentClientsEachGetTheirOwnAnswers() throws Exception {
        int clients = 16;
        int each = 12;
        assertEquals(clients * each, concurrently(clients, each, (client, i) -> {
            float[] x = sample(client * 1000L + i);
            HttpResponse<String> r = post("/predict?top=2", "application/json", json(x).getBytes(StandardCharsets.US_ASCII));
            assertEquals(200, r.statusCode(), r.body());
            assertMatches(oracle.classify(x), r.body(), 2);
        }));
        assertEquals(clients * each, server.predictor().stats().calls());
        assertEquals(0, server.predictor().stats().errors());
        assertTrue(server.predictor().workers() <= 2, "the thread budget holds under 16 clients");
        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("deepnet_http_requests_total{path=\"/predict\",status=\"200\"} " + clients * each + "\n"), metrics);
        assertTrue(metrics.contains("deepnet_http_requests_in_flight 1\n"), "only the scrape itself: " + metrics);
    }

    @Test
    void shutdownFinishesTheRequestInFlightThenRefusesConnectionsAndClosesThePredictor() throws Exception {
        byte[] body = json(sample(4)).getBytes(StandardCharsets.US_ASCII);
        Classification expected = oracle.classify(sample(4));
        try (Socket s = new Socket(server.uri().getHost(), server.uri().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body, 0, body.length / 2); // a slow client: half the body now
            out.flush();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (server.inFlight() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, server.inFlight(), "the handler is reading the body");

            Thread closer = Thread.ofPlatform().start(server::close);
            deadline = System.nanoTime() + 10_000_000_000L;
            while (!refused(server.uri()) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(refused(server.uri()), "no new connections once shutting down");
            Thread.sleep(200);
            assertTrue(closer.isAlive(), "close waits for the request in flight");

            out.write(body, body.length / 2, body.length - body.length / 2);
            out.flush();
            String answer = readResponse(s.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            assertMatches(expected, answer.substring(answer.indexOf("\r\n\r\n") + 4), 5);
            closer.join(10_000);
            assertFalse(closer.isAlive(), "close returns once the request is answered");
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> server.predictor().classify(sample(5)));
        assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains("closed"), e.getMessage());
    }

    @Test
    void shutdownWaitsNoLongerThanTheDrainForAClientThatNeverFinishes() throws Exception {
        PredictionServer quick = start(predictor(), 1024, Duration.ofSeconds(1));
        try (Socket s = new Socket(quick.uri().getHost(), quick.uri().getPort())) {
            s.getOutputStream().write("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[1,".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (quick.inFlight() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            long t0 = System.nanoTime();
            quick.close();
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds >= 0.9 && seconds < 5, "closed after " + seconds + " s with a 1 s drain");
        }
    }

    private static boolean refused(URI uri) {
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 1000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** One HTTP response with a Content-Length body, read off a kept-alive connection. */
    static String readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the headers: " + head);
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        Matcher m = Pattern.compile("(?i)content-length: *(\\d+)").matcher(headers);
        assertTrue(m.find(), headers);
        return headers + new String(in.readNBytes(Integer.parseInt(m.group(1))), StandardCharsets.UTF_8);
    }

    @Test
    void aModelThatIsNotAClassifierIsRefusedAtStart() {
        Predictor regression = Predictor.builder(Model.sequential(Shape.of(4), 1, new Dense(4, 1))).ownModel().build();
        try {
            assertThrows(IllegalStateException.class, () -> start(regression, 1024, Duration.ZERO));
        } finally {
            regression.close();
        }
    }
}
