package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import org.junit.jupiter.api.Test;

/** PNDM parity with diffusers' {@code test_scheduler_pndm.py}: PRK warm-up then PLMS. */
class PndmSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear").with(config(overrides).asMap());
    }

    @Test
    void fullLoopNoNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new PndmScheduler(base()), 10);
        assertParity("PNDM no_noise", out, 198.1318, 0.2580);
    }

    @Test
    void fullLoopWithVPredictionMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new PndmScheduler(base("prediction_type", "v_prediction")), 10);
        assertParity("PNDM v_prediction", out, 67.3986, 0.0878);
    }

    @Test
    void fullLoopWithSetAlphaToOneMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(
                new PndmScheduler(base("set_alpha_to_one", true, "beta_start", 0.01)), 10);
        assertParity("PNDM set_alpha_to_one", out, 230.0399, 0.2995);
    }

    @Test
    void fullLoopWithNoSetAlphaToOneMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(
                new PndmScheduler(base("set_alpha_to_one", false, "beta_start", 0.01)), 10);
        assertParity("PNDM no_set_alpha_to_one", out, 186.9482, 0.2434);
    }

    @Test
    void timestepsListPrkStagesThenPlmsSteps() {
        PndmScheduler s = new PndmScheduler(base());
        s.setTimesteps(10);
        assertThat(s.timesteps()).containsExactly(
                900, 850, 850, 800, 800, 750, 750, 700, 700, 650, 650, 600,
                600, 500, 400, 300, 200, 100, 0);
    }

    @Test
    void skippingPrkStepsVisitsTheSecondTimestepTwice() {
        PndmScheduler s = new PndmScheduler(base("skip_prk_steps", true, "steps_offset", 1));
        s.setTimesteps(10);
        assertThat(s.timesteps()).containsExactly(901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1);
        FloatTensor out = DiffusersHarness.loopA(s, 10);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }

    @Test
    void samplePredictionIsRefusedNamingTheAllowedValues() {
        assertThatThrownBy(() -> new PndmScheduler(base("prediction_type", "sample")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("prediction_type").hasMessageContaining("epsilon, v_prediction");
    }
}
