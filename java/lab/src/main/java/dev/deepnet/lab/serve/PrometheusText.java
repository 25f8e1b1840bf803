package dev.deepnet.lab.serve;

import dev.deepnet.infer.LatencyHistogram;
import java.time.Duration;

/**
 * Prometheus's text exposition format, version 0.0.4: per metric family a {@code # HELP} and a
 * {@code # TYPE} line, then its samples, {@code name{label="value",...} number}. Durations are
 * written in seconds, as Prometheus names them ({@code _seconds}).
 */
final class PrometheusText {

    /** What a scrape's response says it is. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** Bucket bounds, in seconds, for latency histograms: 100 µs to 10 s. */
    static final double[] LATENCY_BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    /** Quantiles of summaries. */
    static final double[] QUANTILES = {0.5, 0.9, 0.99};

    private final StringBuilder sb = new StringBuilder(4096);

    /** Starts a family: its help text and type ({@code counter}, {@code gauge}, {@code histogram}, {@code summary}). */
    PrometheusText family(String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** One sample; {@code labels} alternate names and values. */
    PrometheusText sample(String name, double value, String... labels) {
        sb.append(name);
        if (labels.length > 0) {
            sb.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                sb.append(i == 0 ? "" : ",").append(labels[i]).append("=\"")
                        .append(labels[i + 1].replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"');
            }
            sb.append('}');
        }
        sb.append(' ').append(number(value)).append('\n');
        return this;
    }

    /** A histogram family: cumulative buckets at {@link #LATENCY_BUCKETS} (to within the recorder's 6.25 %), +Inf, sum, count. */
    PrometheusText histogram(String name, String help, LatencyHistogram.Snapshot s) {
        family(name, "histogram", help);
        for (double bound : LATENCY_BUCKETS) {
            sample(name + "_bucket", s.countAtMost(Duration.ofNanos(Math.round(bound * 1e9))), "le", number(bound));
        }
        sample(name + "_bucket", s.count(), "le", "+Inf");
        sample(name + "_sum", seconds(s.total()));
        return sample(name + "_count", s.count());
    }

    /** A summary family: {@link #QUANTILES} (to within 6.25 %), sum, count. */
    PrometheusText summary(String name, String help, LatencyHistogram.Snapshot s) {
        family(name, "summary", help);
        for (double q : QUANTILES) {
            sample(name, seconds(s.quantile(q)), "quantile", number(q));
        }
        sample(name + "_sum", seconds(s.total()));
        return sample(name + "_count", s.count());
    }

    static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    /** Plain decimals ({@code 0.0001}, {@code 1}, {@code 0.104467563}), as Prometheus's own clients write bucket bounds. */
    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
