package dev.deepnet.infer;

import dev.deepnet.data.ImagePreprocessing;
import dev.deepnet.io.ModelFile;
import dev.deepnet.io.SafeTensorsException;
import dev.deepnet.nativelib.Lifetime;
import dev.deepnet.nn.Model;
import dev.deepnet.onnx.OnnxException;
import dev.deepnet.onnx.OnnxFile;
import dev.deepnet.ops.Backend;
import dev.deepnet.ops.Ops;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * Inference for services: call it from as many threads as you like. The model's weights are
 * shared and only read; each call borrows a worker (its own {@link Ops} and inference plans,
 * {@link BatchPlans} for batches of up to {@code maxBatch}) and returns it, so there is no
 * one-predictor-per-thread rule and no per-call native allocation once the workers are warm.
 *
 * <p><b>Threads are a budget.</b> A predictor computes on at most {@link #threads()} threads in
 * all: each worker runs oneDNN on {@link #threadsPerWorker()} of them, on a thread of its own, and
 * at most {@code threads / threadsPerWorker} workers exist. A call goes to the <b>most recently
 * used idle worker</b> (its plans and oneDNN's kernels for the caller's batch sizes are the most
 * likely to be built and in cache: a caller alone keeps landing on the same worker, however many
 * were made under an earlier load); a new worker is made only when none is idle, and when all
 * {@link #maxWorkers()} are busy the call waits in line, first come first served (no caller waits
 * behind a later one). A worker goes from one call straight to the next waiting, so under load the
 * cores never idle between calls waiting for a woken caller. The default gives every core its own
 * single-threaded worker, which serves many concurrent callers best (small requests gain little
 * from a second thread, and OpenMP teams on cores that are already busy slow everyone down); a
 * predictor for one caller with large batches does better with {@code threadsPerWorker == threads}.
 * Every worker has the same thread count, so a prediction does not depend on which worker made it.
 * Each worker keeps at most {@code maxPlansPerWorker} plans (batches padded to powers of two; the
 * least recently used closed past that), and its ops their own bounded kernel cache.
 * {@link #warmup} makes every worker ahead of the first call (oneDNN builds its kernels then, not
 * on a user's request).
 *
 * <p><b>Classes.</b> When the model outputs class scores, {@link #classify} gives probabilities (a
 * final {@link dev.deepnet.nn.Softmax} respected) and the top classes with their labels
 * ({@link ClassOutput}); {@link #predict} gives the raw outputs of any model.
 *
 * <p><b>Statistics.</b> {@link #stats()} counts calls, samples and errors, and keeps latency and
 * the time calls waited for a worker in fixed-size histograms ({@link LatencyHistogram}).
 *
 * <p>Do not train the model while predicting: the weights must not change under readers. Close a
 * predictor when done: its worker threads (daemons) and their native memory live until then; a
 * predictor that {@link Builder#ownModel() owns} its model (one from {@link #load}) closes it too.
 */
public final class Predictor implements AutoCloseable {

    private final Model model;
    private final boolean ownsModel;
    private final IntFunction<Ops> opsFactory; // threads per worker -> a worker's ops
    private final int maxBatch;
    private final int threads;
    private final int threadsPerWorker;
    private final int maxPlansPerWorker;
    private final ClassOutput classes; // null when the model's output is not class scores
    private final String notAClassifier; // why, when classes is null
    private final ImagePreprocessing preprocessing; // null: the model does not take images

    /** Held by every call: {@link #close} waits for the calls running and refuses new ones. */
    private final Lifetime lifetime = new Lifetime();
    /** Counted down when the first close has freed every worker: later closes wait for it. */
    private final CountDownLatch freed = new CountDownLatch(1);

    // The pool. Guarded by lock: idle, waiting, threads, shutdown, and each WorkerThread's next.
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<WorkerThread> idle = new ArrayDeque<>(); // most recently used first
    private final ArrayDeque<Call<?>> waiting = new ArrayDeque<>(); // first come first
    private final List<WorkerThread> workerThreads = new ArrayList<>();
    private boolean shutdown;
    private final AtomicInteger numbers = new AtomicInteger();
    private final AtomicInteger made = new AtomicInteger(); // workers made (a worker's ops and plans exist)

    // Statistics.
    private final LongAdder samples = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicLong plansCompiled = new AtomicLong();
    private final LatencyHistogram latency = new LatencyHistogram();
    private final LatencyHistogram waited = new LatencyHistogram();

    /** One thread's means to run the model: its ops and its plans, made on its thread by its first call. */
    private final class Worker implements AutoCloseable {
        final Ops ops;
        final BatchPlans plans;

        Worker() {
            ops = opsFactory.apply(threadsPerWorker);
            try {
                plans = BatchPlans.forInference(model, ops, maxBatch, maxPlansPerWorker);
                plans.plan(1); // the single-sample plan every worker serves
            } catch (RuntimeException | Error e) {
                ops.close(); // a worker that cannot be made leaves nothing behind
                throw e;
            }
        }

        @Override
        public void close() {
            try {
                plans.close();
            } finally {
                ops.close();
            }
        }
    }

    /** A call waiting for, or running on, a worker; its caller waits for {@link #await}. */
    private final class Call<T> {
        final Function<Worker, T> work;
        final int count; // samples; 0 for a warm-up call, which the statistics leave out
        final long submitted = System.nanoTime();
        private T result; // guarded by this
        private Throwable failure;
        private boolean done;

        Call(Function<Worker, T> work, int count) {
            this.work = work;
            this.count = count;
        }

        /** Runs on a worker thread. */
        void run(WorkerThread thread) {
            long started = System.nanoTime();
            if (count > 0) {
                waited.record(started - submitted);
            }
            T r = null;
            Throwable f = null;
            try {
                if (thread.worker == null) {
                    thread.worker = new Worker();
                    made.incrementAndGet();
                    plansCompiled.addAndGet(thread.worker.plans.compiled());
                }
                long before = thread.worker.plans.compiled();
                try {
                    r = work.apply(thread.worker);
                } finally {
                    plansCompiled.addAndGet(thread.worker.plans.compiled() - before);
                }
                samples.add(count);
            } catch (Throwable e) { // handed to the caller, who rethrows it
                f = e;
            }
            if (count > 0) {
                latency.record(System.nanoTime() - submitted);
            }
            synchronized (this) {
                result = r;
                failure = f;
            }
        }

        synchronized void finish() {
            done = true;
            notifyAll();
        }

        /**
         * Waits even when interrupted: the worker writes into the caller's buffers, so the call
         * must not return before it has. The interrupt is kept for the caller to see.
         */
        synchronized T await() {
            boolean interrupted = false;
            while (!done) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            if (failure != null) {
                throw new IllegalStateException("a prediction failed: " + failure, failure);
            }
            return result;
        }
    }

    /** A predictor thread and the worker it owns (made by its first call, on it). */
    private final class WorkerThread extends Thread {
        Worker worker; // only this thread touches it until it has ended
        Call<?> next; // guarded by lock
        final Condition assigned = lock.newCondition();

        WorkerThread(Call<?> first) {
            super("deepnet-predictor-" + numbers.incrementAndGet());
            setDaemon(true); // a predictor left open does not keep the JVM alive
            this.next = first;
        }

        @Override
        public void run() {
            for (Call<?> call = take(); call != null; call = take()) {
                call.run(this);
                Call<?> finished = call;
                lock.lock();
                try {
                    next = waiting.pollFirst(); // straight on to the next call waiting, if any
                    if (next == null) {
                        idle.addFirst(this); // idle again before the caller learns it is done, so its next call finds it
                    }
                } finally {
                    lock.unlock();
                }
                finished.finish();
            }
        }

        /** The next call given to this thread; null once the predictor shuts down. */
        private Call<?> take() {
            lock.lock();
            try {
                while (next == null && !shutdown) {
                    assigned.awaitUninterruptibly();
                }
                Call<?> c = next;
                next = null;
                return c;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * A predictor on the selected backend ({@link Backend#selected()}), batches of up to
     * {@code maxBatch}, computing on every core ({@link #defaultThreads()}), one thread per worker.
     */
    public Predictor(Model model, int maxBatch) {
        this(builder(model).maxBatch(maxBatch));
    }

    /**
     * A predictor on the selected backend that computes on at most {@code threads} threads, in
     * workers of {@code threadsPerWorker} threads each ({@code threadsPerWorker} divides into
     * {@code threads}; the remainder is left unused).
     */
    public Predictor(Model model, int maxBatch, int threads, int threadsPerWorker) {
        this(builder(model).maxBatch(maxBatch).threads(threads, threadsPerWorker));
    }

    /**
     * A predictor whose workers' ops come from {@code opsFactory}, which is given the threads
     * per worker; at most {@code threads / threadsPerWorker} workers run at once.
     */
    public Predictor(Model model, IntFunction<Ops> opsFactory, int maxBatch, int threads, int threadsPerWorker) {
        this(builder(model).ops(opsFactory).maxBatch(maxBatch).threads(threads, threadsPerWorker));
    }

    /**
     * A predictor whose workers' ops come from {@code opsFactory} with whatever threads those ops
     * use; at most {@link #defaultThreads()} workers run at once (ops that each use every core
     * then oversubscribe them: prefer the constructors that take a thread budget).
     */
    public Predictor(Model model, Supplier<Ops> opsFactory, int maxBatch) {
        this(builder(model).ops(threads -> opsFactory.get()).maxBatch(maxBatch));
    }

    private Predictor(Builder b) {
        this.model = b.model;
        this.ownsModel = b.ownsModel;
        this.opsFactory = b.opsFactory;
        this.maxBatch = b.maxBatch;
        this.threads = b.threads;
        this.threadsPerWorker = b.threadsPerWorker;
        this.maxPlansPerWorker = b.maxPlansPerWorker;
        ClassOutput c = null;
        String why = null;
        try {
            c = ClassOutput.of(model, b.labels);
        } catch (IllegalArgumentException e) {
            if (!b.labels.isEmpty()) {
                throw e; // labels were given for a model they do not fit
            }
            why = e.getMessage();
        }
        this.classes = c;
        this.notAClassifier = why;
        if (b.preprocessing != null && !b.preprocessing.sampleShape().equals(model.sampleShape())) {
            throw new IllegalArgumentException("the image preprocessing makes samples " + b.preprocessing.sampleShape()
                    + " but the model takes " + model.sampleShape());
        }
        this.preprocessing = b.preprocessing;
    }

    /**
     * A predictor for a deepnet model file ({@link ModelFile}) or, when its name ends in
     * {@code .onnx}, an ONNX file ({@link OnnxFile#load}): it owns the model (closing the predictor
     * closes it), knows its class labels and how images become its input, on every core in
     * single-threaded workers. Labels and preprocessing come from the file's metadata under
     * {@link ModelFile#CLASSES_KEY} and {@link ModelFile#PREPROCESSING_KEY} (a model file's metadata,
     * or an ONNX file's {@code metadata_props}, as {@link OnnxFile#save(Model, Path, Map)} writes
     * them); without them, the labels are numbered and the preprocessing is
     * {@link ImagePreprocessing#defaultFor} the model's sample shape.
     *
     * @throws SafeTensorsException naming the file when it is not a deepnet model, or its labels or
     *     preprocessing do not fit the model
     * @throws OnnxException naming the file when an {@code .onnx} file cannot be read, or its labels
     *     or preprocessing do not fit the model
     */
    public static Predictor load(Path modelFile) throws IOException {
        return load(modelFile, settings -> { });
    }

    /**
     * {@link #load(Path)} with other settings: {@code settings} is given the builder, already
     * holding the file's model (owned), labels and preprocessing, to change what it likes, e.g.
     * {@code Predictor.load(file, b -> b.threads(8, 2).maxBatch(32))}.
     */
    public static Predictor load(Path modelFile, Consumer<Builder> settings) throws IOException {
        boolean onnx = modelFile.getFileName() != null && modelFile.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
        List<String> labels;
        Optional<ImagePreprocessing> saved;
        if (onnx) {
            Map<String, String> metadata = OnnxFile.metadata(modelFile);
            try {
                labels = ModelFile.classes(metadata);
                saved = ModelFile.preprocessing(metadata);
            } catch (IllegalArgumentException e) {
                throw new OnnxException(modelFile, e.getMessage(), e);
            }
        } else {
            labels = ModelFile.classes(modelFile);
            saved = ModelFile.preprocessing(modelFile);
        }
        Model model = onnx ? OnnxFile.load(modelFile) : ModelFile.load(modelFile);
        Builder b = builder(model).ownModel();
        try {
            ImagePreprocessing p = saved.or(() -> ImagePreprocessing.defaultFor(model.sampleShape())).orElse(null);
            String misfit = null;
            if (p != null && !p.sampleShape().equals(model.sampleShape())) {
                misfit = "its image preprocessing makes samples " + p.sampleShape() + " but its model takes " + model.sampleShape();
            }
            long outputs = model.shapes(1)[model.output().index()].size();
            if (misfit == null && !labels.isEmpty() && labels.size() != outputs) {
                misfit = "it names " + labels.size() + " classes but its model outputs " + outputs + " values per sample";
            }
            if (misfit != null) {
                throw onnx ? new OnnxException(modelFile, misfit) : new SafeTensorsException(modelFile, misfit);
            }
            b.labels(labels).preprocessing(p);
            settings.accept(b);
        } catch (IOException | RuntimeException | Error e) {
            model.close();
            throw e;
        }
        return b.build();
    }

    /** Settings for a predictor over {@code model}, which it only reads and leaves open (unless {@link Builder#ownModel()}). */
    public static Builder builder(Model model) {
        return new Builder(Objects.requireNonNull(model, "model"));
    }

    /**
     * How a predictor is made. Defaults: the selected backend, every core
     * ({@link #defaultThreads()}) in single-threaded workers, batches of up to 64, at most
     * {@value Classifier#DEFAULT_MAX_PLANS} plans per worker, numbered class labels.
     */
    public static final class Builder {
        private final Model model;
        private boolean ownsModel;
        private IntFunction<Ops> opsFactory = threads -> Backend.selected().newOps(threads);
        private int maxBatch = 64;
        private int threads = defaultThreads();
        private int threadsPerWorker = 1;
        private int maxPlansPerWorker = Classifier.DEFAULT_MAX_PLANS;
        private List<String> labels = List.of();
        private ImagePreprocessing preprocessing;

        private Builder(Model model) {
            this.model = model;
        }

        /** The largest batch one plan runs; larger calls are split. */
        public Builder maxBatch(int maxBatch) {
            if (maxBatch < 1) {
                throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
            }
            this.maxBatch = maxBatch;
            return this;
        }

        /** Compute on at most {@code threads} threads, in workers of {@code threadsPerWorker} each. */
        public Builder threads(int threads, int threadsPerWorker) {
            if (threadsPerWorker < 1 || threads < threadsPerWorker) {
                throw new IllegalArgumentException("need 1 <= threadsPerWorker <= threads, got threadsPerWorker " + threadsPerWorker
                        + " and threads " + threads);
            }
            this.threads = threads;
            this.threadsPerWorker = threadsPerWorker;
            return this;
        }

        /** Where each worker's ops come from, given its threads (default: the selected backend). */
        public Builder ops(IntFunction<Ops> opsFactory) {
            this.opsFactory = Objects.requireNonNull(opsFactory, "opsFactory");
            return this;
        }

        /** The most plans a worker keeps (each batch size's plan holds that batch's activations). */
        public Builder maxPlansPerWorker(int maxPlans) {
            if (maxPlans < 1) {
                throw new IllegalArgumentException("maxPlansPerWorker must be >= 1, got " + maxPlans);
            }
            this.maxPlansPerWorker = maxPlans;
            return this;
        }

        /** The classes' labels, one per class (default: none, so "class 0", "class 1", ...). */
        public Builder labels(List<String> labels) {
            this.labels = List.copyOf(labels);
            return this;
        }

        /**
         * How images become the model's input, for {@link #classify(BufferedImage)} and
         * {@link #classify(Path)} (null: none; the default for a model built in code).
         */
        public Builder preprocessing(ImagePreprocessing preprocessing) {
            this.preprocessing = preprocessing;
            return this;
        }

        /** The preprocessing set so far (from the model file, for {@link Predictor#load(Path, Consumer)}), or null. */
        public ImagePreprocessing preprocessing() {
            return preprocessing;
        }

        /** The predictor closes the model when it is closed (and when building it fails). */
        public Builder ownModel() {
            this.ownsModel = true;
            return this;
        }

        /**
         * The predictor.
         *
         * @throws IllegalArgumentException when labels or a preprocessing are given that do not fit the model
         */
        public Predictor build() {
            try {
                return new Predictor(this);
            } catch (RuntimeException | Error e) {
                if (ownsModel) {
                    model.close();
                }
                throw e;
            }
        }
    }

    /** The cores this JVM may use: the default thread budget. */
    public static int defaultThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** The most threads this predictor computes on at once. */
    /** The largest batch one plan runs: calls with more samples are split. */
    public int maxBatch() {
        return maxBatch;
    }

    public int threads() {
        return threads;
    }

    /** The threads each worker's oneDNN calls use. */
    public int threadsPerWorker() {
        return threadsPerWorker;
    }

    /** The most workers that exist and run at once: {@code threads / threadsPerWorker}. */
    public int maxWorkers() {
        return threads / threadsPerWorker;
    }

    /** The most plans each worker keeps. */
    public int maxPlansPerWorker() {
        return maxPlansPerWorker;
    }

    /** The model this predictor runs (closed with it when it owns it). */
    public Model model() {
        return model;
    }

    /** Floats per input sample. */
    public long inputSize() {
        return model.sampleShape().size();
    }

    /** Floats per output sample. */
    public long outputSize() {
        return model.shapes(1)[model.output().index()].size();
    }

    /** Whether the model outputs class scores, so {@link #classify} works. */
    public boolean isClassifier() {
        return classes != null;
    }

    /**
     * How the model's output reads as classes: their number and labels.
     *
     * @throws IllegalStateException when the model does not output class scores
     */
    public ClassOutput classes() {
        if (classes == null) {
            throw new IllegalStateException("this predictor's model is not a classifier: " + notAClassifier);
        }
        return classes;
    }

    /** The class labels, one per class ("class c" where the model has none). */
    public List<String> labels() {
        return classes().labels();
    }

    /**
     * Runs {@code work} on a worker and returns its result, holding this predictor meanwhile (so
     * {@link #close} waits for it). The caller waits even when interrupted (see {@link Call#await}).
     */
    private <T> T onWorker(int count, Function<Worker, T> work) {
        lifetime.acquire("this Predictor");
        try {
            Call<T> call = new Call<>(work, count);
            submit(call);
            return call.await();
        } finally {
            lifetime.release();
        }
    }

    /** Gives {@code call} to the most recently used idle worker, a new worker, or the line. */
    private void submit(Call<?> call) {
        lock.lock();
        try {
            if (shutdown) {
                throw new IllegalStateException("this Predictor is closed");
            }
            WorkerThread w = idle.pollFirst();
            if (w != null) {
                w.next = call;
                w.assigned.signal();
            } else if (workerThreads.size() < maxWorkers()) {
                WorkerThread t = new WorkerThread(call);
                t.start(); // before it is listed: a thread that cannot start is not counted
                workerThreads.add(t);
            } else {
                waiting.addLast(call);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Counts a call that fails, whatever the reason, in {@link Stats#errors()}. */
    private <T> T counted(Supplier<T> call) {
        try {
            return call.get();
        } catch (RuntimeException | Error e) {
            errors.increment();
            throw e;
        }
    }

    /** Makes every worker and runs each once on zeros, so the first real calls pay no set-up. */
    public void warmup() {
        // One call per worker, each waiting for all to start: so every worker (not the same one
        // again) is made and runs once before the first real call.
        int workers = maxWorkers();
        CountDownLatch started = new CountDownLatch(workers);
        lifetime.acquire("this Predictor");
        try {
            List<Call<Void>> calls = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                Call<Void> call = new Call<>(w -> {
                    started.countDown();
                    awaitUninterruptibly(started);
                    w.plans.run(MemorySegment.ofArray(new float[Math.toIntExact(inputSize())]), 1,
                            MemorySegment.ofArray(new float[Math.toIntExact(outputSize())]));
                    return null;
                }, 0);
                submit(call);
                calls.add(call);
            }
            RuntimeException first = null;
            for (Call<Void> call : calls) {
                try {
                    call.await();
                } catch (RuntimeException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            lifetime.release();
        }
    }

    /** The output for one sample ({@link #inputSize()} floats). */
    public float[] predict(float[] sample) {
        return counted(() -> {
            if (sample.length != inputSize()) {
                throw new IllegalArgumentException("a sample of " + model.sampleShape() + " has " + inputSize() + " floats, got "
                        + sample.length);
            }
            float[] out = new float[Math.toIntExact(outputSize())];
            run(MemorySegment.ofArray(sample), 1, MemorySegment.ofArray(out));
            return out;
        });
    }

    /**
     * Outputs for {@code count} samples laid out one after another in {@code samples} (native or
     * heap), written into {@code outputs} ({@code count * outputSize()} floats): the samples are
     * copied once into the plan, the outputs once out of it.
     */
    public void predict(MemorySegment samples, int count, MemorySegment outputs) {
        counted(() -> {
            long in = inputSize() * Float.BYTES;
            long out = outputSize() * Float.BYTES;
            if (count < 1 || samples.byteSize() != count * in || outputs.byteSize() != count * out) {
                throw new IllegalArgumentException("for " + count + " samples of " + model.sampleShape() + " expected "
                        + count * in + " input bytes and " + count * out + " output bytes, got " + samples.byteSize() + " and "
                        + outputs.byteSize());
            }
            if (!samples.isAccessibleBy(ANOTHER_THREAD) || !outputs.isAccessibleBy(ANOTHER_THREAD)) {
                // A confined arena's memory can be read only by its owner; the workers run on threads of their own.
                float[] in32 = samples.toArray(ValueLayout.JAVA_FLOAT);
                float[] out32 = new float[Math.toIntExact(count * outputSize())];
                run(MemorySegment.ofArray(in32), count, MemorySegment.ofArray(out32));
                MemorySegment.copy(out32, 0, outputs, ValueLayout.JAVA_FLOAT, 0, out32.length);
            } else {
                run(samples, count, outputs);
            }
            return null;
        });
    }

    /** Stands for "some thread other than the caller" in segment accessibility checks; never started. */
    private static final Thread ANOTHER_THREAD = new Thread(() -> { }, "deepnet-predictor-probe");

    private void run(MemorySegment samples, int count, MemorySegment outputs) {
        onWorker(count, w -> {
            w.plans.run(samples, count, outputs);
            return null;
        });
    }

    /** {@link #predict(MemorySegment, int, MemorySegment)} for arrays. */
    public float[] predict(float[] samples, int count) {
        float[] result = new float[Math.toIntExact(Math.max(0, count) * outputSize())];
        predict(MemorySegment.ofArray(samples), count, MemorySegment.ofArray(result));
        return result;
    }

    /**
     * The classification of one sample ({@link #inputSize()} floats): probabilities and the
     * classes ranked with their labels.
     *
     * @throws IllegalStateException when the model does not output class scores
     */
    public Classification classify(float[] sample) {
        ClassOutput c = classes();
        float[] p = predict(sample);
        c.toProbabilities(p, 1, p);
        return c.classification(p, 0);
    }

    /** The classifications of {@code count} samples laid out one after another in {@code samples}. */
    public List<Classification> classify(float[] samples, int count) {
        ClassOutput c = classes();
        float[] p = predict(samples, count);
        c.toProbabilities(p, count, p);
        return c.classifications(p, count);
    }

    /** How images become this model's input, if it takes images. */
    public Optional<ImagePreprocessing> preprocessing() {
        return Optional.ofNullable(preprocessing);
    }

    /**
     * The classification of an image: made into a sample by {@link #preprocessing()} (resized or
     * converted, which {@link Classification#conversions()} then says, or refused, as it says).
     *
     * @throws IllegalArgumentException when the preprocessing refuses the image
     * @throws IllegalStateException when the model takes no images or is not a classifier
     */
    public Classification classify(BufferedImage image) {
        return classify(counted(() -> imagePreprocessing().apply(image)));
    }

    /**
     * {@link #classify(BufferedImage)} for an image file (PNG, JPEG, BMP, GIF), decoded within the
     * {@link dev.deepnet.data.DataLimits#fromSystemProperties() limits the system properties set}.
     *
     * @throws dev.deepnet.data.DataFormatException naming the file when it cannot be decoded
     */
    public Classification classify(Path image) throws IOException {
        ImagePreprocessing.Prepared prepared;
        try {
            prepared = imagePreprocessing().apply(image);
        } catch (IOException | RuntimeException e) {
            errors.increment();
            throw e;
        }
        return classify(prepared);
    }

    /** The classification of an image already made into a sample (by this or another {@link ImagePreprocessing}). */
    public Classification classify(ImagePreprocessing.Prepared image) {
        return classify(image.sample()).withConversions(image.conversions());
    }

    private ImagePreprocessing imagePreprocessing() {
        if (preprocessing == null) {
            throw new IllegalStateException("this predictor has no image preprocessing: its model takes samples " + model.sampleShape()
                    + "; give it floats, or an ImagePreprocessing (Predictor.Builder.preprocessing)");
        }
        return preprocessing;
    }

    /** Number of workers made so far: at most {@link #maxWorkers()}. */
    public int workers() {
        return made.get();
    }

    /**
     * What this predictor has done so far.
     *
     * @param calls         calls that ran on a worker, whether they succeeded or not
     * @param samples       samples in the calls that succeeded
     * @param errors        calls that threw, for any reason (bad input, a failure computing, a closed predictor)
     * @param workers       workers made so far
     * @param plansCompiled plans compiled by every worker so far, counting those compiled again after
     *                      being closed to stay within {@code maxPlansPerWorker}
     * @param latency       each call's time from being made to its result, waiting included
     * @param waiting       each call's time waiting for a worker
     */
    public record Stats(long calls, long samples, long errors, int workers, long plansCompiled, LatencyHistogram.Snapshot latency,
                        LatencyHistogram.Snapshot waiting) {
        @Override
        public String toString() {
            return calls + " calls, " + samples + " samples, " + errors + " errors, " + workers + " workers, " + plansCompiled
                    + " plans compiled; latency " + latency + "; waiting " + waiting;
        }
    }

    /** A snapshot of the statistics (a copy: it does not change as the predictor works on). */
    public Stats stats() {
        LatencyHistogram.Snapshot l = latency.snapshot();
        return new Stats(l.count(), samples.sum(), errors.sum(), made.get(), plansCompiled.get(), l, waited.snapshot());
    }

    /**
     * Frees every worker once the calls running now have returned (new calls are refused from
     * now on: {@link IllegalStateException}), and closes the model if this predictor owns it; later
     * calls do nothing.
     */
    @Override
    public void close() {
        if (!lifetime.endWhenUnused()) {
            awaitUninterruptibly(freed); // another close is freeing the workers: return when it has
            return;
        }
        // No call runs now: each held the lifetime until its result came back.
        List<WorkerThread> all;
        lock.lock();
        try {
            shutdown = true;
            for (WorkerThread t : workerThreads) {
                t.assigned.signal();
            }
            all = List.copyOf(workerThreads);
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        try {
            for (WorkerThread t : all) {
                while (t.isAlive()) {
                    try {
                        t.join();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
            RuntimeException failure = null;
            for (WorkerThread t : all) {
                if (t.worker != null) {
                    try {
                        t.worker.close();
                    } catch (RuntimeException e) {
                        failure = failure == null ? e : failure;
                    }
                    t.worker = null;
                }
            }
            if (ownsModel) {
                model.close();
            }
            if (failure != null) {
                throw failure;
            }
        } finally {
            freed.countDown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (latch.getCount() > 0) {
            try {
                latch.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
