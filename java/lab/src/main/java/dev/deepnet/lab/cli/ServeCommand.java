package dev.deepnet.lab.cli;

import dev.deepnet.infer.Predictor;
import dev.deepnet.lab.serve.PredictionServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code deepnet serve --model FILE}: the model's classifications over HTTP
 * ({@link PredictionServer}) until SIGTERM or Ctrl-C, which finish the requests in flight first.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a classifier over HTTP: POST /predict (an image or a JSON array of floats), GET /health, GET /metrics.",
                "Stops on SIGTERM or Ctrl-C after the requests in flight finish (at most --drain seconds)."})
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "a model saved by deepnet train (.safetensors) or an ONNX file (.onnx)")
    Path modelFile;

    @Option(names = "--port", defaultValue = "8080", description = "the port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "the address to listen on; 0.0.0.0 for every interface (default: ${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--threads", description = "threads that compute, one worker each (default: every core)")
    Integer threads;

    @Option(names = "--max-body", defaultValue = "" + PredictionServer.DEFAULT_MAX_BODY_BYTES,
            description = "the largest request body in bytes; larger ones get 413 (default: ${DEFAULT-VALUE})")
    long maxBody;

    @Option(names = "--max-pixels", defaultValue = "" + PredictionServer.DEFAULT_MAX_PIXELS,
            description = "the most pixels an image may declare; larger ones get 400 before decoding (default: ${DEFAULT-VALUE})")
    long maxPixels;

    @Option(names = "--drain", defaultValue = "10", description = "seconds to let requests in flight finish when stopping (default: ${DEFAULT-VALUE})")
    int drainSeconds;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        CommandLine cli = spec.commandLine();
        PrintWriter out = cli.getOut();
        if (port < 0 || port > 65535) {
            throw new UsageException("--port must be in 0..65535, got " + port);
        }
        if (threads != null && threads < 1) {
            throw new UsageException("--threads must be >= 1, got " + threads);
        }
        if (maxBody < 1 || maxBody > Integer.MAX_VALUE - 8) {
            throw new UsageException("--max-body must be in 1.." + (Integer.MAX_VALUE - 8) + " bytes, got " + maxBody);
        }
        if (maxPixels < 1) {
            throw new UsageException("--max-pixels must be >= 1, got " + maxPixels);
        }
        if (drainSeconds < 0) {
            throw new UsageException("--drain must be >= 0 seconds, got " + drainSeconds);
        }
        if (!modelFile.toString().endsWith(".onnx")) {
            SavedClassifier.load(modelFile).close(); // every way a model file can be wrong, as one line naming it
        } else if (!Files.isRegularFile(modelFile)) {
            throw new UsageException("--model " + modelFile + ": no such file");
        }
        int t = threads == null ? Predictor.defaultThreads() : threads;
        Predictor predictor;
        try {
            predictor = Predictor.load(modelFile, b -> b.threads(t, 1).maxBatch(PredictionServer.DEFAULT_BATCH));
        } catch (IOException e) {
            throw new UsageException("--model " + modelFile + " cannot be loaded: " + e.getMessage(), e);
        }
        if (!predictor.isClassifier()) {
            predictor.close();
            throw new UsageException("--model " + modelFile + " is not a classifier: serve answers with classes");
        }
        InetSocketAddress address = new InetSocketAddress(bind, port);
        if (address.isUnresolved()) {
            predictor.close();
            throw new UsageException("--bind " + bind + ": no such address");
        }
        PredictionServer.Settings settings = PredictionServer.Settings.at(address).withMaxBodyBytes(maxBody).withMaxImagePixels(maxPixels)
                .withDrain(Duration.ofSeconds(drainSeconds));
        PredictionServer server;
        try {
            server = PredictionServer.start(predictor, settings);
        } catch (IOException e) {
            predictor.close();
            String why = e instanceof BindException ? e.getMessage() + " (another server on it? choose another --port)" : e.getMessage();
            throw new UsageException("cannot listen on " + bind + ":" + port + ": " + why);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("deepnet serve: stopping: " + server.inFlight() + " requests in flight (waiting at most " + drainSeconds + " s)");
            server.close();
            out.println("deepnet serve: stopped after " + server.requests() + " requests; " + server.predictor().stats());
        }, "deepnet-serve-shutdown"));
        out.println("deepnet serve: " + modelFile.getFileName() + " (input " + predictor.model().sampleShape() + ", "
                + predictor.classes().classes() + " classes, " + predictor.maxWorkers() + " workers) at " + server.uri()
                + " (POST /predict, GET /health, GET /metrics)");
        try {
            server.warmUp();
        } catch (RuntimeException e) {
            server.close();
            throw new UsageException("--model " + modelFile + " cannot run: " + e.getMessage());
        }
        out.println("deepnet serve: ready");
        server.awaitClosed(); // until the shutdown hook has closed it
        return 0;
    }
}
