package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.SchedulerConfig;
import io.conditio.core.random.TorchGenerator;
import org.junit.jupiter.api.Test;

/** LCM and TCD parity with diffusers' {@code test_scheduler_lcm.py} and {@code test_scheduler_tcd.py} (loop A). */
class ConsistencySchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1000, "beta_start", 0.00085, "beta_end", 0.0120,
                "beta_schedule", "scaled_linear", "prediction_type", "epsilon").with(config(overrides).asMap());
    }

    @Test
    void lcmOneStepMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new LcmScheduler(base()), 1);
        assertParity("LCM onestep", out, 18.7097, 1e-3, 0.0244, 1e-3);
    }

    @Test
    void lcmSeededMultistepMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new LcmScheduler(base()), 10, new TorchGenerator(0));
        assertParity("LCM multistep (torch seed 0)", out, 197.7616, 0.2575);
    }

    @Test
    void lcmTimestepsAreTakenFromTheDistillationGrid() {
        LcmScheduler s = new LcmScheduler(base());
        s.setTimesteps(4);
        assertThat(s.timesteps()).containsExactly(999, 759, 499, 259);
    }

    @Test
    void lcmReNoisesBetweenStepsButNotAfterTheLast() {
        CountingRandom random = new CountingRandom();
        DiffusersHarness.loopA(new LcmScheduler(base()), 4, random);
        assertThat(random.randnShapes).hasSize(3);
    }

    @Test
    void lcmRefusesMoreStepsThanTheDistillationGrid() {
        LcmScheduler s = new LcmScheduler(base());
        assertThatThrownBy(() -> s.setTimesteps(51)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("original_inference_steps");
    }

    @Test
    void tcdOneStepDeterministicMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new TcdScheduler(base()), 1);
        assertParity("TCD onestep_deter", out, 29.8715, 1e-3, 0.0389, 1e-3);
    }

    @Test
    void tcdMultistepDeterministicMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new TcdScheduler(base()), 10);
        assertParity("TCD multistep_deter", out, 181.2040, 1e-3, 0.2359, 1e-3);
    }

    @Test
    void tcdWithEtaDrawsNoiseInEveryStepButTheLast() {
        CountingRandom random = new CountingRandom();
        FloatTensor out = DiffusersHarness.loopA(new TcdScheduler(base("eta", 0.3)), 4, random);
        assertThat(random.randnShapes).hasSize(3);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }
}
