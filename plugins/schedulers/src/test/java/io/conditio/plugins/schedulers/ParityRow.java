package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import java.util.function.Supplier;

/**
 * One row of diffusers' parity table ({@code scheduler-parity.md}): a full loop and the sum and mean of
 * {@code |sample|} it must end at. Rows feed a {@code @MethodSource}; the loop runs when the row is checked, so a
 * scheduler that refuses its config fails that row's case alone.
 *
 * @param name the row as the parity report names it, e.g. {@code "DDIM v_prediction"}
 * @param loop builds the scheduler and runs the loop
 * @param sum the expected {@code sum(|sample|)}, NaN for a row diffusers asserts by its mean alone
 * @param sumTol the tolerance on the sum
 * @param mean the expected {@code mean(|sample|)}
 * @param meanTol the tolerance on the mean
 */
record ParityRow(String name, Supplier<FloatTensor> loop, double sum, double sumTol, double mean, double meanTol) {

    /** A row with diffusers' usual tolerances: 1e-2 on the sum, 1e-3 on the mean. */
    static ParityRow of(String name, Supplier<FloatTensor> loop, double sum, double mean) {
        return new ParityRow(name, loop, sum, 1e-2, mean, 1e-3);
    }

    /** A row with its own tolerances. */
    static ParityRow of(String name, Supplier<FloatTensor> loop, double sum, double sumTol, double mean,
            double meanTol) {
        return new ParityRow(name, loop, sum, sumTol, mean, meanTol);
    }

    /** A row diffusers asserts by its mean alone (tolerance 1e-3). */
    static ParityRow meanOf(String name, Supplier<FloatTensor> loop, double mean) {
        return new ParityRow(name, loop, Double.NaN, 0, mean, 1e-3);
    }

    /** Runs the loop and asserts the row. */
    void check() {
        DiffusersHarness.assertParity(name, loop.get(), sum, sumTol, mean, meanTol);
    }

    /** @return the row's name, which the parameterized test shows */
    @Override
    public String toString() {
        return name;
    }
}
