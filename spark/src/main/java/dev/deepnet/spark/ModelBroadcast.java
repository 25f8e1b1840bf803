package dev.deepnet.spark;

import dev.deepnet.infer.Predictor;
import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * A model file's bytes, broadcast once to every executor, with what the driver learnt when it
 * checked them: executors load it with {@link ExecutorPredictors}, once per JVM. Small and
 * serializable: a task carries this handle, never the bytes themselves (Spark ships a broadcast
 * to each executor once, in blocks, and caches it there).
 *
 * <p>The driver loads the file once in {@link #of} before anything is sent, so a file that is not a
 * model fails there, naming the file, rather than in every task.
 */
public final class ModelBroadcast implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final Broadcast<byte[]> bytes;
    private final String sha256;
    private final String suffix; // ".onnx" picks the ONNX loader (Predictor.load goes by the name)
    private final String fileName;
    private final long inputSize;
    private final List<String> labels;

    private ModelBroadcast(Broadcast<byte[]> bytes, String sha256, String suffix, String fileName, long inputSize, List<String> labels) {
        this.bytes = bytes;
        this.sha256 = sha256;
        this.suffix = suffix;
        this.fileName = fileName;
        this.inputSize = inputSize;
        this.labels = List.copyOf(labels);
    }

    /**
     * Checks {@code modelFile} (a deepnet model file, or an {@code .onnx} file) by loading it on the
     * driver, then broadcasts its bytes.
     *
     * @throws IOException when the file cannot be read or is not a classifier model (naming the file)
     */
    public static ModelBroadcast of(SparkSession spark, Path modelFile) throws IOException {
        Objects.requireNonNull(spark, "spark");
        return of(spark, modelFile, Files.readAllBytes(modelFile), modelFile.getFileName().toString());
    }

    /**
     * {@link #of(SparkSession, Path)} for a file on any file system Hadoop reaches from the driver
     * ({@code file:}, {@code hdfs:}, {@code s3a:}, ...; no scheme: the default file system).
     */
    public static ModelBroadcast of(SparkSession spark, String modelLocation) throws IOException {
        Objects.requireNonNull(spark, "spark");
        org.apache.hadoop.fs.Path location = new org.apache.hadoop.fs.Path(modelLocation);
        byte[] data = HadoopFiles.read(spark, location);
        Path local = Files.createTempFile("deepnet-model-", suffix(location.getName()));
        try {
            Files.write(local, data);
            return of(spark, local, data, location.getName());
        } finally {
            Files.deleteIfExists(local);
        }
    }

    private static String suffix(String name) {
        return name.toLowerCase(Locale.ROOT).endsWith(".onnx") ? ".onnx" : ".safetensors";
    }

    private static ModelBroadcast of(SparkSession spark, Path modelFile, byte[] data, String name) throws IOException {
        long inputSize;
        List<String> labels;
        try (Predictor p = Predictor.load(modelFile, b -> b.threads(1, 1))) {
            if (!p.isClassifier()) {
                throw new IOException(name + ": its model does not output class scores, so it cannot classify rows");
            }
            inputSize = p.inputSize();
            labels = p.labels();
        }
        Broadcast<byte[]> b = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(data);
        return new ModelBroadcast(b, sha256(data), suffix(name), name, inputSize, labels);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    /** The model file's bytes (on an executor: fetched from the broadcast the first time). */
    byte[] bytes() {
        return bytes.value();
    }

    /** The SHA-256 of the model's bytes, in hex: what identifies the model in an executor's cache. */
    public String sha256() {
        return sha256;
    }

    /** The name a local copy of the model needs to end in to be read as what it is. */
    String suffix() {
        return suffix;
    }

    /** The model file's name on the driver, for messages. */
    public String fileName() {
        return fileName;
    }

    /** Floats per sample the model takes. */
    public long inputSize() {
        return inputSize;
    }

    /** The class labels, one per class. */
    public List<String> labels() {
        return labels;
    }

    /** Removes the model's bytes from the executors (and then the driver); the handle is unusable after. */
    public void destroy() {
        bytes.destroy();
    }
}
