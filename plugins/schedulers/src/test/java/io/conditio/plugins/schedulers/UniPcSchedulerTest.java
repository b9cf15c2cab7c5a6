package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopA;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopAWithNoise;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** UniPC parity with diffusers' {@code test_scheduler_unipc.py} (loop A), on 4-D and 1-D samples. */
class UniPcSchedulerTest implements FullLoopParity {

    private static UniPcScheduler uniPc(Object... overrides) {
        return new UniPcScheduler(DiffusersHarness.with(linearBetas(1000, "solver_order", 2, "solver_type", "bh2",
                "final_sigmas_type", "sigma_min"), overrides));
    }

    private static FloatTensor fullLoop(Object... overrides) {
        return loopA(uniPc(overrides), 10);
    }

    private static FloatTensor fullLoop1d(Object... overrides) {
        UniPcScheduler s = uniPc(overrides);
        s.setTimesteps(10);
        return DiffusersHarness.runA(s, s.timesteps(), DiffusersHarness.sampleDeter1d());
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.meanOf("UniPC no_noise", () -> fullLoop(), 0.2464),
                ParityRow.meanOf("UniPC karras", () -> fullLoop("use_karras_sigmas", true), 0.2925),
                ParityRow.meanOf("UniPC v_prediction", () -> fullLoop("prediction_type", "v_prediction"), 0.1014),
                ParityRow.meanOf("UniPC karras+v_prediction",
                        () -> fullLoop("prediction_type", "v_prediction", "use_karras_sigmas", true), 0.1966),
                ParityRow.of("UniPC with_noise", () -> loopAWithNoise(uniPc(), 10, 8), 315.5757, 0.4109),
                ParityRow.meanOf("UniPC 1-D no_noise", () -> fullLoop1d(), 0.2441),
                ParityRow.meanOf("UniPC 1-D karras", () -> fullLoop1d("use_karras_sigmas", true), 0.2898),
                ParityRow.meanOf("UniPC 1-D v_prediction", () -> fullLoop1d("prediction_type", "v_prediction"),
                        0.1014),
                ParityRow.meanOf("UniPC 1-D karras+v_prediction",
                        () -> fullLoop1d("prediction_type", "v_prediction", "use_karras_sigmas", true), 0.1944),
                ParityRow.of("UniPC 1-D with_noise", () -> loopAWithNoise(uniPc(), 10, 8,
                        DiffusersHarness.sampleDeter1d(), DiffusersHarness.noiseDeter1d(),
                        new DiffusersHarness.NoRandom()), 39.0870, 0.4072));
    }

    @ParameterizedTest(name = "{0} order {1} {2}")
    @CsvSource({"bh1, 1, epsilon", "bh1, 2, sample", "bh1, 3, epsilon", "bh2, 3, sample", "bh2, 1, epsilon",
        "bh2, 3, v_prediction"})
    void everySolverTypeAndOrderRunsWithoutNaNs(String solverType, int order, String prediction) {
        FloatTensor out = fullLoop("solver_type", solverType, "solver_order", order, "prediction_type", prediction);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }

    @Test
    void zeroFinalSigmaWithBh1HasNoNaNs() {
        FloatTensor out = fullLoop("solver_type", "bh1", "final_sigmas_type", "zero");
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }
}
