package dev.deepnet.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.deepnet.infer.Classification;
import dev.deepnet.infer.Predictor;
import dev.deepnet.io.ModelFile;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two executors in JVMs of their own (Spark's {@code local-cluster[2, 1, 1024]}: a master and two
 * workers inside the test JVM, each worker launching an executor process). Spark's launcher needs,
 * without a Spark distribution: {@code SPARK_TESTING=1} and {@code SPARK_SCALA_VERSION=2.13} in the
 * environment (so it looks for no build or {@code jars/} directory), {@code spark.test.home} set
 * to some directory (the workers' "Spark home"), and the executors' classpath given as
 * {@code spark.executor.extraClassPath} (here the test JVM's own). The module's pom runs this
 * class in a surefire execution of its own that sets the environment; it is skipped elsewhere.
 */
class LocalClusterTest {
    @TempDir
    Path dir;

    @Test
    void twoExecutorJvmsEachLoadTheModelOnceAndAgreeWithOneJvm() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("1".equals(System.getenv("SPARK_TESTING")) && System.getenv("SPARK_SCALA_VERSION") != null,
                "needs SPARK_TESTING=1 and SPARK_SCALA_VERSION=2.13 (the pom's local-cluster execution sets them)");
        System.setProperty("spark.test.home", Files.createDirectories(dir.resolve("spark-home")).toString());
        Path modelFile = dir.resolve("lenet.safetensors");
        try (Model m = LeNet.create(10, 5)) {
            ModelFile.save(m, modelFile, DatasetClassifierTest.LABELS, Map.of());
        }
        SparkSession spark = SparkSession.builder().master("local-cluster[2,1,1024]").appName("deepnet-local-cluster")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executorEnv.OMP_NUM_THREADS", "1")
                .getOrCreate();
        try {
            int rows = 200;
            float[][] samples = DatasetClassifierTest.samples(rows, 1);
            ModelBroadcast model = ModelBroadcast.of(spark, modelFile);
            List<Row> out = new DatasetClassifier(model).batchSize(1)
                    .transform(DatasetClassifierTest.frame(spark, samples, 4)).collectAsList();
            assertEquals(rows, out.size());
            Set<Integer> ids = new HashSet<>();
            try (Predictor single = Predictor.load(modelFile, b -> b.threads(1, 1))) {
                for (Row row : out) {
                    int id = row.getInt(0);
                    assertFalse(!ids.add(id), "row " + id + " twice");
                    Classification expected = single.classify(samples[id]);
                    assertEquals(expected.best().index(), row.getInt(2), "row " + id);
                    List<Float> p = row.getList(4);
                    float[] actual = new float[p.size()];
                    for (int i = 0; i < actual.length; i++) {
                        actual[i] = p.get(i);
                    }
                    assertArrayEquals(expected.probabilities(), actual, 0f, "row " + id);
                }
            }
            // Each executor JVM: its process, how many predictors it holds (one: the model, once), whether it has native access.
            List<String> executors = new JavaSparkContext(spark.sparkContext()).parallelize(List.of(1, 2, 3, 4, 5, 6, 7, 8), 8)
                    .map(i -> ProcessHandle.current().pid() + ":" + ExecutorPredictors.size() + ":"
                            + java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
                                    .contains("--enable-native-access=ALL-UNNAMED"))
                    .distinct().collect();
            Set<String> pids = new HashSet<>();
            for (String e : executors) {
                String[] pidAndCount = e.split(":"); // pid, predictors, native access
                assertEquals("1", pidAndCount[1], "predictors in executor " + pidAndCount[0] + ": " + executors);
                // Spark's launcher gives executors native access itself (JavaModuleOptions): deepnet's FFM calls need no setting.
                assertEquals("true", pidAndCount[2], "--enable-native-access in executor " + pidAndCount[0] + ": " + executors);
                assertFalse(pidAndCount[0].equals(String.valueOf(ProcessHandle.current().pid())), "a task ran in the driver: " + executors);
                pids.add(pidAndCount[0]);
            }
            assertEquals(2, pids.size(), "executor processes: " + executors);
        } finally {
            spark.stop();
        }
    }
}
