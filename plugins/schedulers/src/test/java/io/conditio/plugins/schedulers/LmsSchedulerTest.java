package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopB;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopBWithNoise;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** LMS parity with diffusers' {@code test_scheduler_lms.py} (loop B). */
class LmsSchedulerTest implements FullLoopParity {

    private static LmsScheduler lms(Object... overrides) {
        return new LmsScheduler(linearBetas(1100, overrides));
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.of("LMS no_noise", () -> loopB(lms(), 10), 1006.388, 1.31),
                ParityRow.of("LMS v_prediction", () -> loopB(lms("prediction_type", "v_prediction"), 10),
                        0.0017, 2.2676e-06),
                ParityRow.of("LMS karras_sigmas", () -> loopB(lms("use_karras_sigmas", true), 10),
                        3812.9927, 2e-2, 4.9648, 1e-3),
                ParityRow.of("LMS with_noise", () -> loopBWithNoise(lms(), 10, 8), 27663.6895, 36.0204));
    }

    @Test
    void quadratureIntegratesTheLagrangePolynomialsExactly() {
        // the integral of (x - 1)(x - 2) over [0, 3] is 1.5
        double v = GaussKronrodQuadrature.integrate(x -> (x - 1) * (x - 2), 0, 3, 1.49e-8, 1e-4);
        assertThat(v).isCloseTo(1.5, within(1e-13));
    }
}
