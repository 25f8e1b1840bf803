package dev.deepnet.spark;

import dev.deepnet.infer.Predictor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/**
 * One {@link Predictor} per model per executor JVM, shared by all the tasks that JVM runs at once
 * (a predictor is thread-safe: each call borrows one of its workers).
 *
 * <p>The first task that needs a model on an executor writes the broadcast bytes to a temporary
 * file, loads it ({@link Predictor#load}), and deletes the file; later tasks, of the same stage or
 * any later one, get the same predictor. <b>Threads are a budget:</b> the predictor computes on
 * the executor's cores in workers of {@code spark.task.cpus} threads each, so the at most
 * {@code cores / task.cpus} tasks Spark runs at once on the executor each get a worker of their
 * own and together never use more than the executor's cores.
 *
 * <p>Predictors live until {@link #closeAll} or the JVM ends (their threads are daemons), because
 * an executor cannot know which stage is its last.
 */
public final class ExecutorPredictors {
    private ExecutorPredictors() {}

    /**
     * What makes predictors differ: the model and its thread budget. Not the batch size: one model
     * is loaded once per JVM whatever batches its callers ask for (the first caller's
     * {@code max(maxBatch, }{@value #MIN_MAX_BATCH}{@code )} is the predictor's largest batch, and
     * a larger batch is split into calls of that size).
     */
    record Key(String sha256, int threads, int threadsPerWorker) {}

    /** The smallest largest-batch a predictor is made with: small batches then still share it. */
    static final int MIN_MAX_BATCH = 64;

    private static final Map<Key, Predictor> PREDICTORS = new ConcurrentHashMap<>();
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?])?");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*\\d+\\s*,\\s*(\\d+)\\s*,\\s*\\d+\\s*]");

    /**
     * This JVM's predictor for {@code model}, made on first use, for batches of up to
     * {@code maxBatch} (see {@link Key}); its thread budget is the executor's ({@link #executorCores}) in workers of
     * the current task's CPUs (1 outside a task).
     */
    public static Predictor get(ModelBroadcast model, int maxBatch) {
        int cores = executorCores();
        TaskContext task = TaskContext.get();
        int perTask = Math.min(cores, Math.max(1, task == null ? 1 : task.cpus()));
        return get(model, cores, perTask, maxBatch);
    }

    /** This JVM's predictor for {@code model} computing on {@code threads} threads in workers of {@code threadsPerWorker}. */
    public static Predictor get(ModelBroadcast model, int threads, int threadsPerWorker, int maxBatch) {
        Key key = new Key(model.sha256(), threads, threadsPerWorker);
        Predictor p = PREDICTORS.get(key);
        return p != null ? p : PREDICTORS.computeIfAbsent(key, k -> load(model, k, Math.max(maxBatch, MIN_MAX_BATCH)));
    }

    private static Predictor load(ModelBroadcast model, Key key, int maxBatch) {
        try {
            Path file = Files.createTempFile("deepnet-model-", model.suffix());
            try {
                Files.write(file, model.bytes());
                return Predictor.load(file, b -> b.threads(key.threads(), key.threadsPerWorker()).maxBatch(maxBatch));
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the broadcast model " + model.fileName() + " on this executor: " + e.getMessage(), e);
        }
    }

    /**
     * The cores this executor may compute on: {@code spark.executor.cores} when set; else, for a
     * {@code local[N]} master, N ({@code *}: every core of the machine) and for
     * {@code local-cluster[n, c, m]}, c; else every core the JVM sees.
     */
    public static int executorCores() {
        SparkEnv env = SparkEnv.get();
        return env == null ? Runtime.getRuntime().availableProcessors() : executorCores(env.conf());
    }

    static int executorCores(SparkConf conf) {
        if (conf.contains("spark.executor.cores")) {
            return Math.max(1, conf.getInt("spark.executor.cores", 1));
        }
        String master = conf.get("spark.master", "").trim().toLowerCase(Locale.ROOT);
        Matcher m = LOCAL.matcher(master);
        if (m.matches()) {
            String n = m.group(1);
            return n == null ? 1 : n.equals("*") ? Runtime.getRuntime().availableProcessors() : Math.max(1, Integer.parseInt(n));
        }
        m = LOCAL_CLUSTER.matcher(master);
        if (m.matches()) {
            return Math.max(1, Integer.parseInt(m.group(1)));
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** How many predictors this JVM holds. */
    public static int size() {
        return PREDICTORS.size();
    }

    /** Closes every predictor of this JVM (waiting for the calls running on them) and forgets them. */
    public static synchronized void closeAll() {
        for (Key k : PREDICTORS.keySet()) {
            Predictor p = PREDICTORS.remove(k);
            if (p != null) {
                p.close();
            }
        }
    }
}
