package dev.deepnet.lab.train;

import dev.deepnet.train.Trainer;
import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A terminal progress bar for {@link Trainer}: one bar per epoch, with the running loss and
 * accuracy, samples per second and the time left; one summary line per epoch with the
 * validation figures.
 */
public final class TrainingProgress implements Trainer.Listener {

    private final PrintStream out;
    private final boolean showBar;
    private int epochs;
    private int batchSize;
    private ProgressBar bar;
    private long epochStart;

    /** Bars and summaries to {@code out} (the terminal: System.err keeps stdout for results). */
    public TrainingProgress(PrintStream out) {
        this(out, true);
    }

    /**
     * Summaries to {@code out}, and bars only when {@code showBar}: a bar redraws its line with
     * carriage returns, which in a log file becomes one enormous line.
     */
    public TrainingProgress(PrintStream out, boolean showBar) {
        this.out = out;
        this.showBar = showBar;
    }

    /** Whether standard error is an interactive terminal, where a bar can redraw itself. */
    public static boolean isTerminal() {
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    @Override
    public void onStart(int epochs, int stepsPerEpoch, int batchSize) {
        this.epochs = epochs;
        this.batchSize = batchSize;
    }

    @Override
    public void onStep(Trainer.StepEvent step) {
        if (!showBar) {
            return;
        }
        if (bar == null) {
            epochStart = System.nanoTime();
            bar = new ProgressBarBuilder()
                    .setTaskName(String.format(Locale.ROOT, "epoch %d/%d", step.epoch(), epochs))
                    .setInitialMax(step.stepsPerEpoch())
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUnit(" steps", 1)
                    .showSpeed()
                    .setConsumer(new ConsoleProgressBarConsumer(out))
                    .setUpdateIntervalMillis(200)
                    .build();
        }
        double seconds = (System.nanoTime() - epochStart) / 1e9;
        bar.stepTo(step.step());
        bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f%s, %.0f samples/s", step.loss(),
                Double.isNaN(step.accuracy()) ? "" : String.format(Locale.ROOT, ", acc %.3f", step.accuracy()),
                step.step() * (double) batchSize / Math.max(seconds, 1e-9)));
    }

    @Override
    public void onEpoch(Trainer.EpochResult e) {
        if (bar != null) {
            bar.close();
            bar = null;
            out.println(); // the bar leaves the cursor on its line when the output is not a terminal
        }
        out.printf(Locale.ROOT, "epoch %d: train loss %.4f%s%s, %.1f s, %.0f samples/s%n", e.epoch(), e.trainLoss(),
                Double.isNaN(e.trainAccuracy()) ? "" : String.format(Locale.ROOT, " acc %.4f", e.trainAccuracy()),
                Double.isNaN(e.validationLoss()) ? "" : String.format(Locale.ROOT, "; validation loss %.4f acc %.4f top-5 error %.4f",
                        e.validationLoss(), e.validationAccuracy(), e.validationTop5Error()),
                e.seconds(), e.samplesPerSecond());
    }

    @Override
    public void onFinish(Trainer.History history) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
        if (history.stoppedEarly()) {
            out.printf(Locale.ROOT, "stopped early after epoch %d: validation loss stopped improving%n", history.last().epoch());
        }
    }
}
