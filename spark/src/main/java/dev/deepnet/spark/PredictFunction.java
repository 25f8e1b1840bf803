package dev.deepnet.spark;

import dev.deepnet.infer.Classification;
import dev.deepnet.infer.Predictor;
import java.io.Serial;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The SQL function {@code deepnet_predict(model, features)}: the classification of one row's
 * {@code array<float>} by the model registered under the name {@code model}, as a struct
 * {@code {prediction int, label string, probability array<float>}} (null for null features).
 *
 * <pre>{@code
 * PredictFunction.register(spark, "lenet", ModelBroadcast.of(spark, Path.of("lenet.safetensors")));
 * spark.sql("SELECT id, deepnet_predict('lenet', features).label FROM samples");
 * }</pre>
 *
 * <p>Spark calls a SQL function row by row, so each row is its own predictor call (batch 1) on the
 * executor's shared predictor ({@link ExecutorPredictors}); for mini-batches use
 * {@link DatasetClassifier} or {@link DeepnetClassificationModel}.
 */
public final class PredictFunction implements UDF2<String, scala.collection.Seq<Float>, Row> {
    @Serial
    private static final long serialVersionUID = 1L;

    /** The function's name in SQL. */
    public static final String NAME = "deepnet_predict";

    /** What the function returns. */
    public static final StructType RESULT = new StructType()
            .add("prediction", DataTypes.IntegerType, false)
            .add("label", DataTypes.StringType, false)
            .add("probability", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    /** The models registered on each session, by name (the function is re-registered with them all). */
    private static final Map<SparkSession, Map<String, ModelBroadcast>> SESSIONS = new ConcurrentHashMap<>();

    private final Map<String, ModelBroadcast> models; // a snapshot: what the tasks receive

    private PredictFunction(Map<String, ModelBroadcast> models) {
        this.models = new TreeMap<>(models);
    }

    /**
     * Registers {@code model} under {@code name} on {@code spark} (replacing a model of that name)
     * and (re-)registers {@value #NAME} there with every model registered so far.
     */
    public static synchronized void register(SparkSession spark, String name, ModelBroadcast model) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(model, "model");
        Map<String, ModelBroadcast> models = SESSIONS.computeIfAbsent(spark, s -> new TreeMap<>());
        models.put(name, model);
        spark.udf().register(NAME, new PredictFunction(models), RESULT);
    }

    @Override
    public Row call(String name, scala.collection.Seq<Float> features) {
        if (features == null) {
            return null;
        }
        ModelBroadcast model = models.get(name);
        if (model == null) {
            throw new IllegalArgumentException(NAME + ": no model named '" + name + "'; registered: " + models.keySet());
        }
        int n = features.length();
        if (n != model.inputSize()) {
            throw new IllegalArgumentException(NAME + "('" + name + "', ...): " + n + " floats in a row, but the model "
                    + model.fileName() + " takes " + model.inputSize());
        }
        float[] sample = new float[n];
        scala.collection.Iterator<Float> it = features.iterator();
        for (int i = 0; i < n; i++) {
            Float v = it.next();
            if (v == null) {
                throw new IllegalArgumentException(NAME + "('" + name + "', ...): a null at position " + i);
            }
            sample[i] = v;
        }
        Predictor predictor = ExecutorPredictors.get(model, 1);
        Classification c = predictor.classify(sample);
        int best = c.best().index();
        float[] p = c.probabilities();
        Float[] boxed = new Float[p.length];
        for (int i = 0; i < p.length; i++) {
            boxed[i] = p[i];
        }
        return RowFactory.create(best, c.label(best), boxed);
    }
}
