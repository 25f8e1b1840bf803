package dev.deepnet.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.deepnet.io.ModelFile;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A task that fails once, after part of its partition went through the classifier, and is tried
 * again ({@code local[2,2]}: two tries per task, what {@code spark.task.maxFailures} gives a
 * cluster) loses and repeats no row.
 */
class TaskRetryTest {
    @TempDir
    Path dir;

    @Test
    void aTaskKilledOnceAndRetriedLosesAndRepeatsNoRow() throws Exception {
        Path modelFile = dir.resolve("lenet.safetensors");
        try (Model m = LeNet.create(10, 3)) {
            ModelFile.save(m, modelFile, DatasetClassifierTest.LABELS, Map.of());
        }
        SparkSession spark = SparkSession.builder().master("local[2,2]").appName("deepnet-spark-retry")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
        try {
            int rows = 100;
            ModelBroadcast model = ModelBroadcast.of(spark, modelFile);
            Dataset<Row> classified = new DatasetClassifier(model).batchSize(8)
                    .transform(DatasetClassifierTest.frame(spark, DatasetClassifierTest.samples(rows, 9), 2));
            Dataset<Row> failingOnce = classified.mapPartitions((MapPartitionsFunction<Row, Row>) in -> {
                TaskContext t = TaskContext.get();
                List<Row> kept = new ArrayList<>();
                while (in.hasNext()) {
                    kept.add(in.next());
                    if (t.partitionId() == 1 && t.attemptNumber() == 0 && kept.size() == 20) {
                        throw new IllegalStateException("killed once on purpose");
                    }
                }
                return kept.iterator();
            }, Encoders.row(classified.schema()));
            List<Row> out = failingOnce.collectAsList();
            assertEquals(rows, out.size());
            boolean[] seen = new boolean[rows];
            for (Row r : out) {
                assertFalse(seen[r.getInt(0)], "row " + r.getInt(0) + " twice");
                seen[r.getInt(0)] = true;
            }
        } finally {
            spark.stop();
            ExecutorPredictors.closeAll();
        }
    }
}
