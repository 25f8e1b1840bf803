package dev.deepnet.lab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.io.ModelFile;
import dev.deepnet.nn.Conv2d;
import dev.deepnet.nn.Dense;
import dev.deepnet.nn.Flatten;
import dev.deepnet.nn.MaxPool2d;
import dev.deepnet.nn.Model;
import dev.deepnet.nn.Relu;
import dev.deepnet.tensor.Shape;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deepnet serve} from the packaged jar: it listens, answers, and stops on SIGTERM after saying so. */
class ServeJarIT {

    private static final Path JAR = Path.of("target/deepnet.jar");

    @Test
    void servesAModelFileAndStopsOnSigterm(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("fashion.safetensors");
        try (Model net = Model.sequential(Shape.of(1, 28, 28), 5, new Conv2d(1, 4, 5, 1, 2), new Relu(), new MaxPool2d(2, 2), new Flatten(),
                new Dense(4 * 14 * 14, 3))) {
            ModelFile.save(net, model, List.of("Sandal", "Sneaker", "Bag"), ImagePreprocessing.grey(28, 28), Map.of());
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-jar", JAR.toString(), "serve", "--model", model.toString(), "--port", "0", "--threads", "1")
                .redirectErrorStream(true).start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        StringBuilder seen = new StringBuilder();
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            String started = next(lines, seen);
            Matcher m = Pattern.compile("deepnet serve: fashion.safetensors \\(input \\(1, 28, 28\\), 3 classes, 1 workers\\) at (http://127.0.0.1:\\d+) ")
                    .matcher(started);
            assertTrue(m.find(), seen.toString());
            URI uri = URI.create(m.group(1));
            assertEquals("deepnet serve: ready", next(lines, seen), seen.toString());

            HttpResponse<String> health = http.send(HttpRequest.newBuilder(uri.resolve("/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB), "png", png);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri.resolve("/predict?top=2")).header("Content-Type", "image/png")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(png.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().matches("\\{\"label\": \"(Sandal|Sneaker|Bag)\", .*\"conversions\": \\[\"converted colour to grey\", .*\n"), r.body());
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(uri.resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(metrics.body().contains("deepnet_http_requests_total{path=\"/predict\",status=\"200\"} 1\n"), metrics.body());
        } finally {
            p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped on SIGTERM");
        reader.join(10_000);
        String rest = String.join("\n", lines);
        assertEquals(143, p.exitValue(), "the JVM's exit status after SIGTERM: " + seen + rest);
        assertTrue(rest.contains("deepnet serve: stopping: 0 requests in flight"), rest);
        assertTrue(rest.contains("deepnet serve: stopped after 3 requests; 1 calls, 1 samples, 0 errors"), rest);
        assertFalse(rest.contains("Exception"), rest);
    }

    @Test
    void aModelThatCannotBeLoadedIsOneLineAndAFailedExit(@TempDir Path dir) throws Exception {
        Path junk = java.nio.file.Files.writeString(dir.resolve("junk.onnx"), "not a model");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-jar", JAR.toString(), "serve", "--model", junk.toString(), "--port", "0").start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue(), err);
        assertTrue(err.lines().findFirst().orElse("").contains("--model " + junk + " cannot be loaded: " + junk + ": is not an ONNX model"), err);
        assertFalse(err.contains("\tat "), err);
    }

    private static String next(LinkedBlockingQueue<String> lines, StringBuilder seen) throws InterruptedException {
        String line = lines.poll(120, TimeUnit.SECONDS);
        assertNotNull(line, "no line from the server within 120 s: " + seen);
        seen.append(line).append('\n');
        return line;
    }
}
