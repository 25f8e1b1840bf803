package dev.deepnet.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.deepnet.infer.Classification;
import dev.deepnet.infer.Predictor;
import dev.deepnet.io.ModelFile;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetClassifierTest {
    static final int ROWS = 300;
    static final int PIXELS = 28 * 28;
    static final List<String> LABELS = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot");

    @TempDir
    static Path dir;
    static Path modelFile;
    static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        modelFile = dir.resolve("lenet.safetensors");
        try (Model m = LeNet.create(10, 42)) {
            ModelFile.save(m, modelFile, LABELS, java.util.Map.of());
        }
        spark = SparkSession.builder().master("local[2]").appName("deepnet-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.host", "127.0.0.1")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        ExecutorPredictors.closeAll();
    }

    /** Fashion-MNIST-like: 28x28 grey pixels in [0, 1], seeded. */
    static float[][] samples(int n, long seed) {
        Random r = new Random(seed);
        float[][] s = new float[n][PIXELS];
        for (float[] x : s) {
            for (int i = 0; i < PIXELS; i++) {
                x[i] = r.nextFloat();
            }
        }
        return s;
    }

    static StructType schema() {
        return new StructType().add("id", DataTypes.IntegerType, false)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), true);
    }

    static Dataset<Row> frame(SparkSession spark, float[][] samples, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < samples.length; i++) {
            Float[] boxed = new Float[PIXELS];
            for (int j = 0; j < PIXELS; j++) {
                boxed[j] = samples[i][j];
            }
            rows.add(RowFactory.create(i, boxed));
        }
        return spark.createDataFrame(rows, schema()).repartition(partitions);
    }

    /**
     * Batches of 32 over 3 partitions of about 100 rows: full and partial batches on both task
     * threads. The classes are the single-JVM predictor's; the probabilities agree to rounding,
     * since oneDNN picks its kernels (and so its order of summation) by batch size.
     */
    @Test
    void predictionsOnLocal2EqualOneJvmPredictor() throws Exception {
        assertSameAsOneJvm(32, 1e-6f);
    }

    /** In batches of one, the predictor runs the very computation the single-JVM one does: bit for bit. */
    @Test
    void inBatchesOfOneTheProbabilitiesAreBitForBitTheOneJvmPredictors() throws Exception {
        assertSameAsOneJvm(1, 0f);
    }

    private void assertSameAsOneJvm(int batch, float tolerance) throws Exception {
        float[][] samples = samples(ROWS, 7);
        ModelBroadcast model = ModelBroadcast.of(spark, modelFile);
        DatasetClassifier classifier = new DatasetClassifier(model).batchSize(batch);
        List<Row> out = classifier.transform(frame(spark, samples, 3)).collectAsList();

        assertEquals(ROWS, out.size());
        boolean[] seen = new boolean[ROWS];
        try (Predictor single = Predictor.load(modelFile, b -> b.threads(1, 1))) {
            for (Row row : out) {
                int id = row.getInt(0);
                assertEquals(false, seen[id], "row " + id + " twice");
                seen[id] = true;
                Classification expected = single.classify(samples[id]);
                int best = expected.best().index();
                assertEquals(best, row.getInt(2), "row " + id);
                assertEquals(LABELS.get(best), row.getString(3), "row " + id);
                List<Float> p = row.getList(4);
                float[] actual = new float[p.size()];
                for (int i = 0; i < actual.length; i++) {
                    actual[i] = p.get(i);
                }
                assertArrayEquals(expected.probabilities(), actual, tolerance, "row " + id);
            }
        }
        // local[2]: one JVM, one predictor, shared by both task threads (and by every test's batch size).
        assertEquals(1, ExecutorPredictors.size());
    }

    /** The SQL function classifies row by row: bit for bit what a one-JVM predictor says of each sample. */
    @Test
    void sqlFunctionEqualsOneJvmPredictor() throws Exception {
        float[][] samples = samples(60, 13);
        PredictFunction.register(spark, "lenet", ModelBroadcast.of(spark, modelFile));
        frame(spark, samples, 2).createOrReplaceTempView("samples");
        List<Row> out = spark.sql("SELECT id, deepnet_predict('lenet', features) AS p FROM samples").collectAsList();
        assertEquals(60, out.size());
        try (Predictor single = Predictor.load(modelFile, b -> b.threads(1, 1))) {
            for (Row row : out) {
                int id = row.getInt(0);
                Row p = row.getStruct(1);
                Classification expected = single.classify(samples[id]);
                assertEquals(expected.best().index(), p.getInt(0), "row " + id);
                assertEquals(LABELS.get(expected.best().index()), p.getString(1), "row " + id);
                List<Float> probabilities = p.getList(2);
                float[] actual = new float[probabilities.size()];
                for (int i = 0; i < actual.length; i++) {
                    actual[i] = probabilities.get(i);
                }
                assertArrayEquals(expected.probabilities(), actual, 0f, "row " + id);
            }
        }
        Exception e = assertThrows(Exception.class,
                () -> spark.sql("SELECT deepnet_predict('alexnet', features) FROM samples").collectAsList());
        assertEquals(true, rootMessage(e).contains("no model named 'alexnet'; registered: [lenet]"), rootMessage(e));
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && !(t instanceof IllegalArgumentException)) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }

    /** The typed path keeps each partition's order, so its predictions line up with the samples. */
    @Test
    void typedPathEqualsOneJvmPredictor() throws Exception {
        float[][] samples = samples(150, 21);
        // A local relation split over local[2]'s two partitions, in the list's order.
        Dataset<float[]> data = spark.createDataset(List.of(samples), spark.implicits().newFloatArrayEncoder());
        List<Prediction> out = new DatasetClassifier(ModelBroadcast.of(spark, modelFile)).batchSize(1).classify(data).collectAsList();
        assertEquals(150, out.size());
        try (Predictor single = Predictor.load(modelFile, b -> b.threads(1, 1))) {
            for (int i = 0; i < out.size(); i++) {
                Classification expected = single.classify(samples[i]);
                assertEquals(expected.best().index(), out.get(i).getIndex(), "sample " + i);
                assertEquals(LABELS.get(expected.best().index()), out.get(i).getLabel(), "sample " + i);
                assertArrayEquals(expected.probabilities(), out.get(i).getProbabilities(), 0f, "sample " + i);
            }
        }
    }

    @Test
    void nullInputGivesNullOutputsAndWrongLengthFailsNamingTheColumn() throws Exception {
        ModelBroadcast model = ModelBroadcast.of(spark, modelFile);
        DatasetClassifier classifier = new DatasetClassifier(model).batchSize(4);
        List<Row> rows = List.of(RowFactory.create(0, null));
        List<Row> out = classifier.transform(spark.createDataFrame(rows, schema())).collectAsList();
        assertEquals(1, out.size());
        assertNull(out.get(0).get(2));
        assertNull(out.get(0).get(4));

        Dataset<Row> shortRow = spark.createDataFrame(List.of(RowFactory.create(0, new Float[] {1f, 2f})), schema());
        Exception e = assertThrows(Exception.class, () -> classifier.transform(shortRow).collectAsList());
        Throwable t = e;
        while (t.getCause() != null && !(t instanceof IllegalArgumentException)) {
            t = t.getCause();
        }
        assertEquals(true, String.valueOf(t.getMessage()).contains("column 'features' holds 2 floats"), e.toString());
    }

    @Test
    void schemaIsCheckedOnTheDriver() throws Exception {
        ModelBroadcast model = ModelBroadcast.of(spark, modelFile);
        StructType wrong = new StructType().add("features", DataTypes.createArrayType(DataTypes.DoubleType));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DatasetClassifier(model).transformSchema(wrong));
        assertEquals("input column 'features' must be array<float>, got array<double>", e.getMessage());
    }

    @Test
    void executorCoresFollowTheMaster() {
        org.apache.spark.SparkConf c = new org.apache.spark.SparkConf(false);
        assertEquals(2, ExecutorPredictors.executorCores(c.clone().set("spark.master", "local[2]")));
        assertEquals(1, ExecutorPredictors.executorCores(c.clone().set("spark.master", "local")));
        assertEquals(3, ExecutorPredictors.executorCores(c.clone().set("spark.master", "local[3,2]")));
        assertEquals(2, ExecutorPredictors.executorCores(c.clone().set("spark.master", "local-cluster[2, 2, 1024]")));
        assertEquals(4, ExecutorPredictors.executorCores(c.clone().set("spark.master", "spark://h:7077").set("spark.executor.cores", "4")));
    }
}
