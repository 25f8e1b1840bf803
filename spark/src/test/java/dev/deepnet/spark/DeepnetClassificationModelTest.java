package dev.deepnet.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.io.ModelFile;
import dev.deepnet.models.LeNet;
import dev.deepnet.nn.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeepnetClassificationModelTest {
    @TempDir
    static Path dir;
    static Path modelFile;
    static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        modelFile = dir.resolve("lenet.safetensors");
        try (Model m = LeNet.create(10, 11)) {
            ModelFile.save(m, modelFile, DatasetClassifierTest.LABELS, Map.of());
        }
        spark = SparkSession.builder().master("local[2]").appName("deepnet-spark-ml-test")
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

    static List<Row> sorted(Dataset<Row> d) {
        return d.orderBy("id").collectAsList();
    }

    @Test
    void transformerEqualsTheDatasetPathAndSurvivesAPipelineSaveAndLoad() throws Exception {
        Dataset<Row> data = DatasetClassifierTest.frame(spark, DatasetClassifierTest.samples(120, 3), 2);
        DeepnetClassificationModel t = new DeepnetClassificationModel().setModelPath(modelFile.toString()).setBatchSize(16)
                .setPredictedLabelCol("label");
        List<Row> viaTransformer = sorted(t.transform(data));
        List<Row> viaDataset = sorted(new DatasetClassifier(ModelBroadcast.of(spark, modelFile)).labelCol("label").batchSize(16)
                .transform(data));
        assertEquals(120, viaTransformer.size());
        assertEquals(viaDataset, viaTransformer);

        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {t}).fit(data);
        Path saved = dir.resolve("pipeline");
        fitted.write().save(saved.toString());
        // The saved pipeline holds its own copy of the model: the original may go.
        Path moved = dir.resolve("elsewhere.safetensors");
        Files.move(modelFile, moved);
        try {
            PipelineModel loaded = PipelineModel.load(saved.toString());
            DeepnetClassificationModel back = (DeepnetClassificationModel) loaded.stages()[0];
            assertEquals(t.uid(), back.uid());
            assertEquals(16, back.getBatchSize());
            assertTrue(back.getModelPath().endsWith("model/lenet.safetensors"), back.getModelPath());
            assertEquals(viaTransformer, sorted(loaded.transform(data)));
        } finally {
            Files.move(moved, modelFile);
        }
    }

    @Test
    void savedAloneAndOverwrittenInPlace() throws Exception {
        DeepnetClassificationModel t = new DeepnetClassificationModel().setModelPath(modelFile.toString()).setInputCol("pixels");
        Path saved = dir.resolve("alone");
        t.write().save(saved.toString());
        DeepnetClassificationModel back = DeepnetClassificationModel.load(saved.toString());
        assertEquals("pixels", back.getOrDefault(back.inputCol()));
        // Saved back where it came from: the model is read before the directory is replaced.
        back.write().overwrite().save(saved.toString());
        DeepnetClassificationModel again = DeepnetClassificationModel.load(saved.toString());
        assertTrue(Files.size(Path.of(again.getModelPath())) > 0);
    }

    @Test
    void schemaNeedsAModelPathAndAFloatArray() {
        StructType s = new StructType().add("features", DataTypes.createArrayType(DataTypes.FloatType));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DeepnetClassificationModel().transformSchema(s));
        assertTrue(e.getMessage().endsWith("set modelPath first"), e.getMessage());
        StructType out = new DeepnetClassificationModel().setModelPath("m.safetensors").transformSchema(s);
        assertEquals(List.of("features", "prediction", "predictedLabel", "probability"), List.of(out.fieldNames()));
    }
}
