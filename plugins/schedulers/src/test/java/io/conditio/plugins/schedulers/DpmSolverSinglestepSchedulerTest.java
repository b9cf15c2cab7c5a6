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

/** DPM-Solver single-step parity with diffusers' {@code test_scheduler_dpm_single.py} (loop A). */
class DpmSolverSinglestepSchedulerTest implements FullLoopParity {

    private static DpmSolverSinglestepScheduler dpm(Object... overrides) {
        return new DpmSolverSinglestepScheduler(DiffusersHarness.with(linearBetas(1000, "solver_order", 2,
                "prediction_type", "epsilon", "thresholding", false, "sample_max_value", 1.0,
                "algorithm_type", "dpmsolver++", "solver_type", "midpoint", "final_sigmas_type", "sigma_min"),
                overrides));
    }

    private static FloatTensor fullLoop(Object... overrides) {
        return loopA(dpm(overrides), 10);
    }

    /** diffusers' {@code test_full_uneven_loop}: 50 steps, starting at the fourth timestep. */
    private static FloatTensor unevenLoop() {
        DpmSolverSinglestepScheduler s = dpm();
        s.setTimesteps(50);
        return DiffusersHarness.runA(s, DiffusersHarness.tail(s.timesteps(), 3), DiffusersHarness.sampleDeter());
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.meanOf("DPM single no_noise", () -> fullLoop(), 0.2791),
                ParityRow.meanOf("DPM single karras", () -> fullLoop("use_karras_sigmas", true), 0.2248),
                ParityRow.meanOf("DPM single v_prediction", () -> fullLoop("prediction_type", "v_prediction"),
                        0.1453),
                ParityRow.meanOf("DPM single karras+v_prediction",
                        () -> fullLoop("prediction_type", "v_prediction", "use_karras_sigmas", true), 0.0649),
                ParityRow.meanOf("DPM single uneven_loop", () -> unevenLoop(), 0.2574),
                ParityRow.of("DPM single with_noise", () -> loopAWithNoise(dpm(), 10, 5), 269.2187, 0.3505));
    }

    @ParameterizedTest(name = "{0} order {1} {2} {3} steps {4}")
    @CsvSource({
        "dpmsolver++, 3, midpoint, epsilon, 10", "dpmsolver++, 3, heun, sample, 9", "dpmsolver, 2, heun, epsilon, 7",
        "dpmsolver, 3, midpoint, v_prediction, 12", "dpmsolver++, 1, midpoint, epsilon, 5",
        "dpmsolver++, 2, heun, epsilon, 11"})
    void everyOrderRunsWithoutNaNs(String algorithm, int order, String solverType, String prediction, int steps) {
        DpmSolverSinglestepScheduler s = dpm("algorithm_type", algorithm, "solver_order", order,
                "solver_type", solverType, "prediction_type", prediction);
        assertThat(DiffusersHarness.allFinite(loopA(s, steps))).isTrue();
    }

    @Test
    void sdeVariantDrawsOneNoiseTensorPerStep() {
        CountingRandom random = new CountingRandom();
        loopA(dpm("algorithm_type", "sde-dpmsolver++"), 10, random);
        assertThat(random.randnShapes).hasSize(10);
    }
}
