package dev.deepnet.spark;

import java.io.IOException;
import java.io.Serial;
import java.io.UncheckedIOException;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link Transformer} that classifies an {@code array<float>} column with a trained
 * deepnet model (a deepnet model file, or an {@code .onnx} file), as {@link DatasetClassifier}
 * does: one predictor per executor JVM, mini-batches of {@link #batchSize()} rows. The trained
 * model's transformer, hence "Model" as in Spark's own {@code LogisticRegressionModel}
 * ({@code DeepnetClassifier} is left for the estimator that trains one).
 *
 * <p>Saved with Spark ML persistence ({@link #write()}, {@link #read()}, also inside a
 * {@code Pipeline}): the parameters as Spark writes them, and a copy of the model file under
 * {@code model/}, so a saved pipeline needs nothing else; a loaded transformer reads that copy.
 */
public final class DeepnetClassificationModel extends Transformer implements MLWritable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> modelPath;
    private final Param<String> inputCol;
    private final Param<String> predictionCol;
    private final Param<String> predictedLabelCol;
    private final Param<String> probabilityCol;
    private final IntParam batchSize;

    /** The model's bytes on the cluster, broadcast by the first transform (per model path and session). */
    private transient volatile ModelBroadcast broadcast;
    private transient String broadcastPath;
    private transient SparkSession broadcastSession;

    public DeepnetClassificationModel() {
        this(Identifiable$.MODULE$.randomUID("deepnetClassificationModel"));
    }

    /** The constructor Spark ML's reader calls (by reflection) with the saved uid. */
    public DeepnetClassificationModel(String uid) {
        this.uid = uid;
        this.modelPath = new Param<>(this, "modelPath", "the model file: a deepnet model (.safetensors) or an .onnx file, on any Hadoop file system");
        this.inputCol = new Param<>(this, "inputCol", "the input column: array<float>, one sample per row");
        this.predictionCol = new Param<>(this, "predictionCol", "the output column of the predicted class's index (int)");
        this.predictedLabelCol = new Param<>(this, "predictedLabelCol", "the output column of the predicted class's label (string)");
        this.probabilityCol = new Param<>(this, "probabilityCol", "the output column of every class's probability (array<float>)");
        this.batchSize = new IntParam(this, "batchSize", "rows per predictor call (>= 1)", ParamValidators.gtEq(1));
        setDefault(inputCol, "features");
        setDefault(predictionCol, "prediction");
        setDefault(predictedLabelCol, "predictedLabel");
        setDefault(probabilityCol, "probability");
        setDefault(batchSize, 64);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> modelPath() {
        return modelPath;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    public Param<String> predictedLabelCol() {
        return predictedLabelCol;
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public DeepnetClassificationModel setModelPath(String value) {
        set(modelPath, value);
        return this;
    }

    public DeepnetClassificationModel setInputCol(String value) {
        set(inputCol, value);
        return this;
    }

    public DeepnetClassificationModel setPredictionCol(String value) {
        set(predictionCol, value);
        return this;
    }

    public DeepnetClassificationModel setPredictedLabelCol(String value) {
        set(predictedLabelCol, value);
        return this;
    }

    public DeepnetClassificationModel setProbabilityCol(String value) {
        set(probabilityCol, value);
        return this;
    }

    public DeepnetClassificationModel setBatchSize(int value) {
        set(batchSize, value);
        return this;
    }

    public String getModelPath() {
        return $(modelPath);
    }

    public int getBatchSize() {
        return (Integer) $(batchSize);
    }

    private DatasetClassifier classifier(ModelBroadcast model) {
        return new DatasetClassifier(model).inputCol($(inputCol)).predictionCol($(predictionCol)).labelCol($(predictedLabelCol))
                .probabilityCol($(probabilityCol)).batchSize(getBatchSize());
    }

    @Override
    public StructType transformSchema(StructType schema) {
        if (!isDefined(modelPath)) {
            throw new IllegalArgumentException("DeepnetClassificationModel " + uid + ": set modelPath first");
        }
        // The schema depends on the columns only, not on the model: no broadcast needed to check it.
        return DatasetClassifier.outputSchema(schema, $(inputCol), $(predictionCol), $(predictedLabelCol), $(probabilityCol));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        return classifier(model(dataset.sparkSession())).transform(dataset.toDF());
    }

    /** The model broadcast on {@code spark}, made once per model path and session. */
    private synchronized ModelBroadcast model(SparkSession spark) {
        String path = getModelPath();
        if (broadcast == null || !path.equals(broadcastPath) || broadcastSession != spark) {
            try {
                broadcast = ModelBroadcast.of(spark, path);
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
            broadcastPath = path;
            broadcastSession = spark;
        }
        return broadcast;
    }

    @Override
    public DeepnetClassificationModel copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** Spark ML's reader for this class ({@code Pipeline} finds it by reflection: a static {@code read()}). */
    public static MLReader<DeepnetClassificationModel> read() {
        return new Reader();
    }

    public static DeepnetClassificationModel load(String path) {
        return read().load(path);
    }

    /** Where under a saved transformer's directory the copy of its model file goes. */
    static final String MODEL_DIR = "model";

    private static final class Writer extends MLWriter {
        private final DeepnetClassificationModel instance;
        private byte[] model;

        Writer(DeepnetClassificationModel instance) {
            this.instance = instance;
        }

        @Override
        public void save(String path) throws IOException {
            // Read the model before save's overwrite() may delete the directory it lies in (a
            // loaded transformer saved back where it came from).
            org.apache.hadoop.fs.Path source = new org.apache.hadoop.fs.Path(instance.getModelPath());
            try {
                model = HadoopFiles.read(sparkSession(), source);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot save " + instance.uid() + ": cannot read its model: " + e.getMessage(), e);
            }
            super.save(path);
        }

        @Override
        public void saveImpl(String path) {
            SparkSession spark = sparkSession();
            try {
                org.apache.hadoop.fs.Path source = new org.apache.hadoop.fs.Path(instance.getModelPath());
                DefaultParamsWriter.saveMetadata(instance, path, spark);
                HadoopFiles.write(spark, new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(path, MODEL_DIR), source.getName()), model);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot save " + instance.uid() + " to " + path + ": " + e.getMessage(), e);
            }
        }
    }

    private static final class Reader extends MLReader<DeepnetClassificationModel> {
        @Override
        public DeepnetClassificationModel load(String path) {
            DefaultParamsReader.Metadata metadata = DefaultParamsReader.loadMetadata(path, sparkSession(),
                    DeepnetClassificationModel.class.getName());
            DeepnetClassificationModel m = new DeepnetClassificationModel(metadata.uid());
            metadata.getAndSetParams(m, scala.Option.empty());
            String saved = new org.apache.hadoop.fs.Path(m.getModelPath()).getName();
            m.setModelPath(new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(path, MODEL_DIR), saved).toString());
            return m;
        }
    }
}
