package dev.deepnet.train;

/** The learning rate at each optimizer step (counted from 0). */
@FunctionalInterface
public interface LearningRateSchedule {

    double rate(long step);

    static LearningRateSchedule constant(double rate) {
        positive(rate);
        return step -> rate;
    }

    /** {@code rate * factor^(step / every)}: drops by {@code factor} every {@code every} steps. */
    static LearningRateSchedule stepDecay(double rate, long every, double factor) {
        positive(rate);
        if (every < 1 || !(factor > 0 && factor <= 1)) {
            throw new IllegalArgumentException("step decay needs every >= 1 and factor in (0, 1], got " + every + ", " + factor);
        }
        return step -> rate * Math.pow(factor, step / every);
    }

    /** {@code rate * gamma^step}. */
    static LearningRateSchedule exponential(double rate, double gamma) {
        positive(rate);
        if (!(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("gamma must be in (0, 1], got " + gamma);
        }
        return step -> rate * Math.pow(gamma, step);
    }

    /** Cosine annealing from {@code rate} to {@code min} over {@code steps}, then {@code min}. */
    static LearningRateSchedule cosine(double rate, long steps, double min) {
        positive(rate);
        if (steps < 1 || min < 0 || min > rate) {
            throw new IllegalArgumentException("cosine schedule needs steps >= 1 and 0 <= min <= rate");
        }
        return step -> step >= steps ? min : min + (rate - min) * (1 + Math.cos(Math.PI * step / steps)) / 2;
    }

    private static void positive(double rate) {
        if (!(rate > 0) || Double.isInfinite(rate)) {
            throw new IllegalArgumentException("learning rate must be positive and finite, got " + rate);
        }
    }
}
