package dev.deepnet.fuzz;

import java.util.random.RandomGenerator;

/** One way of damaging a file. Deterministic: the same input and random state give the same output. */
@FunctionalInterface
public interface Mutator {

    /** A mutated copy of {@code input} (never {@code input} itself), or null when the mutation does not apply. */
    Mutation apply(byte[] input, RandomGenerator random);

    /** The mutated bytes and what was done, e.g. "set IHDR width to 20000 (CRC fixed)". */
    record Mutation(byte[] bytes, String description) {}
}
