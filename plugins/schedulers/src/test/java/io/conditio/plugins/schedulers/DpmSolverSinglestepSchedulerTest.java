package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertMean;
import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** DPM-Solver single-step parity with diffusers' {@code test_scheduler_dpm_single.py} (loop A). */
class DpmSolverSinglestepSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear", "solver_order", 2, "prediction_type", "epsilon", "thresholding", false,
                "sample_max_value", 1.0, "algorithm_type", "dpmsolver++", "solver_type", "midpoint",
                "final_sigmas_type", "sigma_min").with(config(overrides).asMap());
    }

    private static FloatTensor fullLoop(Object... overrides) {
        return DiffusersHarness.loopA(new DpmSolverSinglestepScheduler(base(overrides)), 10);
    }

    @Test
    void fullLoopNoNoiseMatchesDiffusers() {
        assertMean("DPM single no_noise", fullLoop(), 0.2791);
    }

    @Test
    void fullLoopWithKarrasSigmasMatchesDiffusers() {
        assertMean("DPM single karras", fullLoop("use_karras_sigmas", true), 0.2248);
    }

    @Test
    void fullLoopWithVPredictionMatchesDiffusers() {
        assertMean("DPM single v_prediction", fullLoop("prediction_type", "v_prediction"), 0.1453);
    }

    @Test
    void fullLoopWithKarrasAndVPredictionMatchesDiffusers() {
        assertMean("DPM single karras+v_prediction",
                fullLoop("prediction_type", "v_prediction", "use_karras_sigmas", true), 0.0649);
    }

    @Test
    void unevenLoopStartingAtTheFourthTimestepMatchesDiffusers() {
        DpmSolverSinglestepScheduler s = new DpmSolverSinglestepScheduler(base());
        s.setTimesteps(50);
        FloatTensor out = DiffusersHarness.runA(s, DiffusersHarness.tail(s.timesteps(), 3),
                DiffusersHarness.sampleDeter());
        assertMean("DPM single uneven_loop", out, 0.2574);
    }

    @Test
    void fullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopAWithNoise(new DpmSolverSinglestepScheduler(base()), 10, 5);
        assertParity("DPM single with_noise", out, 269.2187, 0.3505);
    }

    @ParameterizedTest(name = "{0} order {1} {2} {3} steps {4}")
    @CsvSource({
        "dpmsolver++, 3, midpoint, epsilon, 10", "dpmsolver++, 3, heun, sample, 9", "dpmsolver, 2, heun, epsilon, 7",
        "dpmsolver, 3, midpoint, v_prediction, 12", "dpmsolver++, 1, midpoint, epsilon, 5",
        "dpmsolver++, 2, heun, epsilon, 11"})
    void everyOrderRunsWithoutNaNs(String algorithm, int order, String solverType, String prediction, int steps) {
        DpmSolverSinglestepScheduler s = new DpmSolverSinglestepScheduler(base("algorithm_type", algorithm,
                "solver_order", order, "solver_type", solverType, "prediction_type", prediction));
        assertThat(DiffusersHarness.allFinite(DiffusersHarness.loopA(s, steps))).isTrue();
    }

    @Test
    void sdeVariantDrawsOneNoiseTensorPerStep() {
        DpmSolverSinglestepScheduler s = new DpmSolverSinglestepScheduler(base("algorithm_type", "sde-dpmsolver++"));
        CountingRandom random = new CountingRandom();
        DiffusersHarness.loopA(s, 10, random);
        assertThat(random.randnShapes).hasSize(10);
    }
}
