package io.conditio.plugins.schedulers;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * diffusers' full-loop parity tests of one scheduler test class, as one parameterized test: the class implements this
 * and lists its rows in a static {@code fullLoops()} method (JUnit looks it up on the implementing class; a class
 * without one fails).
 */
interface FullLoopParity {

    @ParameterizedTest(name = "{0}")
    @MethodSource("fullLoops")
    default void fullLoopMatchesDiffusers(ParityRow row) {
        row.check();
    }
}
