package dev.deepnet.lab.experiments;

import dev.deepnet.lab.report.Charts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The lecture's data: a cheetah, a zebra and a giraffe cast shadows on a wall, seen by 10 input
 * neurons, one per level of height from the ground (neuron 0) up (neuron 9).
 *
 * <p>Encoding: an animal of height h (in levels) darkens the wall below h, so neuron i is
 * active (about 0.9) for {@code i < h} and quiet (about 0.1) above. Cheetahs are short (h = 3), zebras
 * medium (6), giraffes tall (9); each shadow's height varies by -1, 0 or +1 level and each
 * activation by up to ±0.05, uniformly, from a seeded stream.
 */
public final class Shadows implements Experiment {

    public static final List<String> ANIMALS = List.of("cheetah", "zebra", "giraffe");
    public static final int NEURONS = 10;
    static final int[] HEIGHTS = {3, 6, 9};

    /** {@code count} shadows, animals in turn (cheetah, zebra, giraffe, cheetah, ...): (count, 10) activations. */
    public static float[] shadows(int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[count * NEURONS];
        for (int s = 0; s < count; s++) {
            int h = HEIGHTS[s % 3] + r.nextInt(-1, 2);
            for (int i = 0; i < NEURONS; i++) {
                double level = i < h ? 0.9 : 0.1;
                x[s * NEURONS + i] = (float) (level + r.nextDouble(-0.05, 0.05));
            }
        }
        return x;
    }

    /** The animal (0, 1, 2) of shadow {@code s}. */
    public static int animal(int s) {
        return s % 3;
    }

    @Override
    public String name() {
        return "shadows";
    }

    @Override
    public String title() {
        return "Shadows: the data";
    }

    @Override
    public Result run(Path dir) throws IOException {
        float[] x = shadows(9, 1);
        List<Charts.Series> series = new ArrayList<>();
        Experiment.Table.Builder table = Experiment.Table.builder("Nine shadows: activation of each height neuron (0 = ground)",
                "animal", "neurons 0 ... 9");
        for (int s = 0; s < 9; s++) {
            double[] y = new double[NEURONS];
            double[] levels = new double[NEURONS];
            StringBuilder cells = new StringBuilder();
            for (int i = 0; i < NEURONS; i++) {
                y[i] = x[s * NEURONS + i];
                levels[i] = i;
                cells.append(String.format(Locale.ROOT, "%.2f ", y[i]));
            }
            if (s < 3) {
                series.add(new Charts.Series(ANIMALS.get(animal(s)), levels, y));
            }
            table.row(ANIMALS.get(animal(s)), cells.toString().trim());
        }
        Path png = dir.resolve("shadows.png");
        Charts.lines(png, "A shadow seen by 10 height neurons", "neuron (height level)", "activation", series);
        return new Result(name(), title(),
                "A shadow on the wall is seen by a column of 10 neurons, one per height: cheetahs are short, zebras medium, giraffes tall.",
                "Cheetah shadows activate about 3 neurons, zebras about 6, giraffes about 9, with the height varying by one level and"
                        + " each activation by up to ±0.05 (seeded). Every later experiment draws its data here.",
                true, List.of(png), List.of(table.build()));
    }
}
