package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopA;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopAWithNoise;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** DEIS parity with diffusers' {@code test_scheduler_deis.py} (loop A). */
class DeisSchedulerTest implements FullLoopParity {

    private static DeisScheduler deis(Object... overrides) {
        return new DeisScheduler(DiffusersHarness.with(linearBetas(1000, "solver_order", 2), overrides));
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.meanOf("DEIS no_noise", () -> loopA(deis(), 10), 0.23916),
                ParityRow.meanOf("DEIS v_prediction", () -> loopA(deis("prediction_type", "v_prediction"), 10),
                        0.091),
                ParityRow.of("DEIS with_noise", () -> loopAWithNoise(deis(), 10, 8), 315.3016, 0.41054));
    }

    @ParameterizedTest(name = "order {0} {1} karras {2}")
    @CsvSource({"1, epsilon, false", "3, epsilon, false", "3, sample, true", "2, v_prediction, true"})
    void everyOrderRunsWithoutNaNs(int order, String prediction, boolean karras) {
        FloatTensor out = loopA(deis("solver_order", order, "prediction_type", prediction,
                "use_karras_sigmas", karras), 10);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }
}
