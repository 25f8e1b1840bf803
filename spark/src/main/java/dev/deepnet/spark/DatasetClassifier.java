package dev.deepnet.spark;

import dev.deepnet.infer.Classification;
import dev.deepnet.infer.Predictor;
import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Classifies the rows of a {@code Dataset<Row>} whose input column holds each sample as an
 * {@code array<float>} ({@link ModelBroadcast#inputSize()} values, row-major): every row comes out
 * with three columns more, the predicted class's index ({@code int}), its label ({@code string})
 * and every class's probability ({@code array<float>}). A row whose input is null gets nulls.
 *
 * <p>Each partition is classified in mini-batches of {@link #batchSize} rows, one
 * {@link Predictor#classify(float[], int)} call each, on its executor's shared predictor
 * ({@link ExecutorPredictors}); rows stream through, so a partition's memory is one batch, not the
 * whole partition. Rows keep their partition and order.
 */
public final class DatasetClassifier implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final ModelBroadcast model;
    private String inputCol = "features";
    private String predictionCol = "prediction";
    private String labelCol = "predictedLabel";
    private String probabilityCol = "probability";
    private int batchSize = 64;

    public DatasetClassifier(ModelBroadcast model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    public DatasetClassifier inputCol(String name) {
        this.inputCol = Objects.requireNonNull(name, "name");
        return this;
    }

    public DatasetClassifier predictionCol(String name) {
        this.predictionCol = Objects.requireNonNull(name, "name");
        return this;
    }

    public DatasetClassifier labelCol(String name) {
        this.labelCol = Objects.requireNonNull(name, "name");
        return this;
    }

    public DatasetClassifier probabilityCol(String name) {
        this.probabilityCol = Objects.requireNonNull(name, "name");
        return this;
    }

    /** Rows per {@link Predictor#classify(float[], int)} call, and the predictor's largest batch. */
    public DatasetClassifier batchSize(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + rows);
        }
        this.batchSize = rows;
        return this;
    }

    public int batchSize() {
        return batchSize;
    }

    /**
     * The schema {@link #transform} gives {@code input}: its columns, then prediction, label and probability.
     *
     * @throws IllegalArgumentException when the input column is missing or not an array of floats,
     *     or an output column already exists
     */
    public StructType transformSchema(StructType input) {
        return outputSchema(input, inputCol, predictionCol, labelCol, probabilityCol);
    }

    static StructType outputSchema(StructType input, String inputCol, String predictionCol, String labelCol, String probabilityCol) {
        List<String> names = Arrays.asList(input.fieldNames());
        if (!names.contains(inputCol)) {
            throw new IllegalArgumentException("no input column '" + inputCol + "' among " + names);
        }
        DataType t = input.apply(inputCol).dataType();
        if (!(t instanceof ArrayType a) || !a.elementType().equals(DataTypes.FloatType)) {
            throw new IllegalArgumentException("input column '" + inputCol + "' must be array<float>, got " + t.simpleString());
        }
        for (String out : List.of(predictionCol, labelCol, probabilityCol)) {
            if (names.contains(out)) {
                throw new IllegalArgumentException("output column '" + out + "' already exists in " + names);
            }
        }
        return input.add(new StructField(predictionCol, DataTypes.IntegerType, true, Metadata.empty()))
                .add(new StructField(labelCol, DataTypes.StringType, true, Metadata.empty()))
                .add(new StructField(probabilityCol, DataTypes.createArrayType(DataTypes.FloatType, false), true, Metadata.empty()));
    }

    /** {@code input} with each row's classification appended (lazily, as Spark transformations are). */
    public Dataset<Row> transform(Dataset<Row> input) {
        StructType out = transformSchema(input.schema());
        int column = input.schema().fieldIndex(inputCol);
        return input.mapPartitions(new ClassifyPartition(model, column, inputCol, batchSize), Encoders.row(out));
    }

    /**
     * The typed path: each sample ({@link ModelBroadcast#inputSize()} floats; encode a
     * {@code Dataset<float[]>} with {@code spark.implicits().newFloatArrayEncoder()}, which reads
     * Spark's arrays without boxing a float) classified in mini-batches, in the samples' order
     * within each partition. The input column and output column names do not apply.
     */
    public Dataset<Prediction> classify(Dataset<float[]> samples) {
        return samples.mapPartitions(new ClassifySamples(model, batchSize), Prediction.ENCODER);
    }

    private record ClassifySamples(ModelBroadcast model, int batchSize) implements MapPartitionsFunction<float[], Prediction> {
        @Override
        public Iterator<Prediction> call(Iterator<float[]> in) {
            Predictor predictor = ExecutorPredictors.get(model, batchSize);
            int size = Math.toIntExact(predictor.inputSize());
            return new Iterator<>() {
                private final float[] samples = new float[batchSize * size];
                private final List<Prediction> out = new ArrayList<>();
                private int next;

                @Override
                public boolean hasNext() {
                    if (next < out.size()) {
                        return true;
                    }
                    out.clear();
                    next = 0;
                    int n = 0;
                    while (n < batchSize && in.hasNext()) {
                        float[] sample = in.next();
                        if (sample == null || sample.length != size) {
                            throw new IllegalArgumentException("a sample of " + (sample == null ? "null" : sample.length + " floats")
                                    + ", but the model " + model.fileName() + " takes " + size);
                        }
                        System.arraycopy(sample, 0, samples, n * size, size);
                        n++;
                    }
                    if (n > 0) {
                        for (Classification c : predictor.classify(n == batchSize ? samples : Arrays.copyOf(samples, n * size), n)) {
                            int best = c.best().index();
                            out.add(new Prediction(best, c.label(best), c.probabilities()));
                        }
                    }
                    return next < out.size();
                }

                @Override
                public Prediction next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return out.get(next++);
                }
            };
        }
    }

    /** The task's work: what a task ships is this (the model handle, not its bytes) and the settings. */
    private record ClassifyPartition(ModelBroadcast model, int column, String columnName, int batchSize)
            implements MapPartitionsFunction<Row, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            Predictor predictor = ExecutorPredictors.get(model, batchSize);
            return new Batches(rows, predictor, this);
        }
    }

    /** Reads up to a batch of rows, classifies them in one call, hands them out, then reads the next. */
    private static final class Batches implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final Predictor predictor;
        private final ClassifyPartition task;
        private final int size;
        private final float[] samples;
        private final List<Row> batch = new ArrayList<>();
        private final List<Classification> results = new ArrayList<>();
        private final int[] slot; // slot[i]: index into results of batch row i, or -1 for a null input
        private int next;

        Batches(Iterator<Row> rows, Predictor predictor, ClassifyPartition task) {
            this.rows = rows;
            this.predictor = predictor;
            this.task = task;
            this.size = Math.toIntExact(predictor.inputSize());
            this.samples = new float[task.batchSize() * size];
            this.slot = new int[task.batchSize()];
        }

        @Override
        public boolean hasNext() {
            if (next < batch.size()) {
                return true;
            }
            fill();
            return next < batch.size();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Row row = batch.get(next);
            int s = slot[next];
            next++;
            Object[] values = new Object[row.length() + 3];
            for (int i = 0; i < row.length(); i++) {
                values[i] = row.get(i);
            }
            if (s >= 0) {
                Classification c = results.get(s);
                int best = c.best().index();
                values[row.length()] = best;
                values[row.length() + 1] = c.label(best);
                float[] p = c.probabilities();
                Float[] boxed = new Float[p.length];
                for (int i = 0; i < p.length; i++) {
                    boxed[i] = p[i];
                }
                values[row.length() + 2] = boxed;
            }
            return RowFactory.create(values);
        }

        private void fill() {
            batch.clear();
            results.clear();
            next = 0;
            int n = 0;
            while (batch.size() < task.batchSize() && rows.hasNext()) {
                Row row = rows.next();
                if (row.isNullAt(task.column())) {
                    slot[batch.size()] = -1;
                } else {
                    List<Float> sample = row.getList(task.column());
                    if (sample.size() != size) {
                        throw new IllegalArgumentException("column '" + task.columnName() + "' holds " + sample.size()
                                + " floats in a row, but the model " + task.model().fileName() + " takes " + size + ": " + row);
                    }
                    int base = n * size;
                    for (int i = 0; i < size; i++) {
                        Float v = sample.get(i);
                        if (v == null) {
                            throw new IllegalArgumentException("column '" + task.columnName() + "' holds a null at position " + i
                                    + " of a row: " + row);
                        }
                        samples[base + i] = v;
                    }
                    slot[batch.size()] = n++;
                }
                batch.add(row);
            }
            if (n > 0) {
                results.addAll(predictor.classify(n == task.batchSize() ? samples : Arrays.copyOf(samples, n * size), n));
            }
        }
    }
}
