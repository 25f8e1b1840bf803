package dev.deepnet.fuzz;

import dev.deepnet.fuzz.FuzzFormat.Seed;
import dev.deepnet.fuzz.Mutator.Mutation;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Input {@code i} of a (format, seed) run, computed from those alone: a corpus file picked and
 * one to four mutations applied, structure-aware ones more often than byte-level ones when the
 * format has them ({@link FuzzFormat#structurePercent}). Because input {@code i} never depends on
 * input {@code i - 1}, a child JVM can start anywhere in a run, and a finding is reproduced from
 * its seed and index.
 */
final class InputGenerator {

    /** Inputs stay small, so that a hundred thousand of them take minutes; a bomb is the one exception (~330 KB). */
    static final int MAX_BYTES = 1 << 20;

    private final FuzzFormat format;
    private final List<Seed> seeds;
    private final List<Mutator> structure;
    private final List<Mutator> bytes = ByteMutators.all();
    private final long seed;

    InputGenerator(FuzzFormat format, List<Seed> seeds, long seed) {
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException(format.name() + " has no corpus");
        }
        this.format = format;
        this.seeds = List.copyOf(seeds);
        this.structure = format.structureMutators();
        this.seed = seed;
    }

    FuzzInput input(long index) {
        // SplittableRandom mixes its seed, so neighbouring indices give unrelated streams.
        SplittableRandom random = new SplittableRandom(seed * 0x9E37_79B9_7F4A_7C15L + index);
        Seed start = seeds.get(random.nextInt(seeds.size()));
        int count = random.nextInt(4) == 0 ? 2 + random.nextInt(3) : 1;
        byte[] current = start.bytes();
        List<String> done = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            Mutation m = null;
            if (!structure.isEmpty() && random.nextInt(100) < format.structurePercent()) {
                m = structure.get(random.nextInt(structure.size())).apply(current, random);
            }
            while (m == null) { // no structure here (or byte-level drawn): a byte mutation; insertion always applies
                m = bytes.get(random.nextInt(bytes.size())).apply(current, random);
            }
            if (m.bytes().length > MAX_BYTES) {
                continue; // keep the previous bytes: growth past this only slows the run
            }
            current = m.bytes();
            done.add(m.description());
        }
        return new FuzzInput(format.name(), seed, index, start.name(), List.copyOf(done), current);
    }
}
