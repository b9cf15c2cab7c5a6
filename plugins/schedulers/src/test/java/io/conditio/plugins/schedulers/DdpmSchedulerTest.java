package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import io.conditio.core.random.TorchGenerator;
import org.junit.jupiter.api.Test;

/**
 * DDPM: the posterior variance anchors of diffusers' {@code test_scheduler_ddpm.py}, and its full loops (all 1000
 * training steps) with the torch-compatible generator (seed 0).
 */
class DdpmSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear", "variance_type", "fixed_small", "clip_sample", true)
                .with(config(overrides).asMap());
    }

    @Test
    void posteriorVarianceMatchesDiffusers() {
        DdpmScheduler s = new DdpmScheduler(base());
        s.setTimesteps(1000);
        assertThat(s.varianceAt(0)).isCloseTo(0f, within(1e-5f));
        assertThat(s.varianceAt(487)).isCloseTo(0.00979f, within(1e-5f));
        assertThat(s.varianceAt(999)).isCloseTo(0.02f, within(1e-5f));
    }

    @Test
    void drawsNoiseInEveryStepButTheLast() {
        DdpmScheduler s = new DdpmScheduler(base());
        CountingRandom random = new CountingRandom();
        DiffusersHarness.loopA(s, 10, random);
        assertThat(random.randnShapes).hasSize(9).allSatisfy(shape -> assertThat(shape).containsExactly(4, 3, 8, 8));
    }

    @Test
    void seededFullLoopMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new DdpmScheduler(base()), 1000, new TorchGenerator(0));
        assertParity("DDPM no_noise (torch seed 0)", out, 258.9606, 0.3372);
    }

    @Test
    void seededFullLoopWithVPredictionMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new DdpmScheduler(base("prediction_type", "v_prediction")), 1000,
                new TorchGenerator(0));
        assertParity("DDPM v_prediction (torch seed 0)", out, 202.0296, 0.2631);
    }

    @Test
    void seededFullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopAWithNoise(new DdpmScheduler(base()), 1000, 998, new TorchGenerator(0));
        assertParity("DDPM with_noise (torch seed 0)", out, 387.9466, 0.5051);
    }

    @Test
    void fixedLargeLogIsRefusedBecauseItWouldBeNaN() {
        assertThatThrownBy(() -> new DdpmScheduler(base("variance_type", "fixed_large_log")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("fixed_large");
    }

    @Test
    void learnedRangeSplitsTheModelOutputIntoMeanAndVariance() {
        DdpmScheduler s = new DdpmScheduler(base("variance_type", "learned_range"));
        s.setTimesteps(10);
        FloatTensor sample = DiffusersHarness.sampleDeter();
        FloatTensor doubled = FloatTensor.concatChannels(DiffusersHarness.noiseDeter(), FloatTensor.zeros(4, 3, 8, 8));
        FloatTensor out = s.step(doubled, s.timesteps()[0], sample, new CountingRandom());
        assertThat(out.shape()).containsExactly(4, 3, 8, 8);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }
}
