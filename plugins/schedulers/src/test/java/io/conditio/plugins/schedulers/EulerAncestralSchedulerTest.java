package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import io.conditio.core.random.TorchGenerator;
import org.junit.jupiter.api.Test;

/**
 * Euler ancestral: draws once per step. With the core's torch-compatible generator (seed 0, as
 * {@code torch.manual_seed(0)} in diffusers' {@code test_scheduler_euler_ancestral.py}) the loops reproduce
 * diffusers' sums.
 */
class EulerAncestralSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear").with(config(overrides).asMap());
    }

    @Test
    void drawsOneNoiseTensorOfTheModelOutputShapePerStep() {
        EulerAncestralScheduler s = new EulerAncestralScheduler(base());
        CountingRandom random = new CountingRandom();
        DiffusersHarness.loopB(s, 10, random);
        assertThat(random.randnShapes).hasSize(10).allSatisfy(shape -> assertThat(shape).containsExactly(4, 3, 8, 8));
    }

    @Test
    void seededFullLoopMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new EulerAncestralScheduler(base()), 10, new TorchGenerator(0));
        assertParity("EulerAncestral no_noise (torch seed 0)", out, 152.3192, 0.1983);
    }

    @Test
    void seededFullLoopWithVPredictionMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(
                new EulerAncestralScheduler(base("prediction_type", "v_prediction")), 10, new TorchGenerator(0));
        assertParity("EulerAncestral v_prediction (torch seed 0)", out, 108.4439, 0.1412);
    }

    @Test
    void seededFullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopBWithNoise(
                new EulerAncestralScheduler(base()), 10, 8, new TorchGenerator(0));
        assertParity("EulerAncestral with_noise (torch seed 0)", out, 56163.0508, 73.1290);
    }

    @Test
    void samplePredictionIsRefused() {
        assertThatThrownBy(() -> new EulerAncestralScheduler(base("prediction_type", "sample")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("prediction_type");
    }
}
