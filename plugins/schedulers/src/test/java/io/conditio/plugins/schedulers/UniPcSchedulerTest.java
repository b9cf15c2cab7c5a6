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

/** UniPC parity with diffusers' {@code test_scheduler_unipc.py} (loop A), on 4-D and 1-D samples. */
class UniPcSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear", "solver_order", 2, "solver_type", "bh2", "final_sigmas_type", "sigma_min")
                .with(config(overrides).asMap());
    }

    private static FloatTensor fullLoop(Object... overrides) {
        return DiffusersHarness.loopA(new UniPcScheduler(base(overrides)), 10);
    }

    private static FloatTensor fullLoop1d(Object... overrides) {
        UniPcScheduler s = new UniPcScheduler(base(overrides));
        s.setTimesteps(10);
        return DiffusersHarness.runA(s, s.timesteps(), DiffusersHarness.sampleDeter1d());
    }

    @Test
    void fullLoopNoNoiseMatchesDiffusers() {
        assertMean("UniPC no_noise", fullLoop(), 0.2464);
    }

    @Test
    void fullLoopWithKarrasSigmasMatchesDiffusers() {
        assertMean("UniPC karras", fullLoop("use_karras_sigmas", true), 0.2925);
    }

    @Test
    void fullLoopWithVPredictionMatchesDiffusers() {
        assertMean("UniPC v_prediction", fullLoop("prediction_type", "v_prediction"), 0.1014);
    }

    @Test
    void fullLoopWithKarrasAndVPredictionMatchesDiffusers() {
        assertMean("UniPC karras+v_prediction",
                fullLoop("prediction_type", "v_prediction", "use_karras_sigmas", true), 0.1966);
    }

    @Test
    void fullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopAWithNoise(new UniPcScheduler(base()), 10, 8);
        assertParity("UniPC with_noise", out, 315.5757, 0.4109);
    }

    @Test
    void oneDimensionalFullLoopsMatchDiffusers() {
        assertMean("UniPC 1-D no_noise", fullLoop1d(), 0.2441);
        assertMean("UniPC 1-D karras", fullLoop1d("use_karras_sigmas", true), 0.2898);
        assertMean("UniPC 1-D v_prediction", fullLoop1d("prediction_type", "v_prediction"), 0.1014);
        assertMean("UniPC 1-D karras+v_prediction",
                fullLoop1d("prediction_type", "v_prediction", "use_karras_sigmas", true), 0.1944);
    }

    @Test
    void oneDimensionalLoopWithNoiseMatchesDiffusers() {
        UniPcScheduler s = new UniPcScheduler(base());
        s.setTimesteps(10);
        float[] ts = DiffusersHarness.tail(s.timesteps(), 8);
        FloatTensor sample = s.addNoise(DiffusersHarness.sampleDeter1d(), DiffusersHarness.noiseDeter1d(), ts[0]);
        FloatTensor out = DiffusersHarness.runA(s, ts, sample);
        assertParity("UniPC 1-D with_noise", out, 39.0870, 0.4072);
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
