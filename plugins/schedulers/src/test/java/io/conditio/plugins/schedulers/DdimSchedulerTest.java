package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** DDIM parity with diffusers' {@code test_scheduler_ddim.py} and the contract details. */
class DdimSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear", "clip_sample", true).with(config(overrides).asMap());
    }

    @Test
    void fullLoopNoNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new DdimScheduler(base()), 10);
        assertParity("DDIM no_noise", out, 172.0067, 0.223967);
    }

    @Test
    void fullLoopWithVPredictionMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(new DdimScheduler(base("prediction_type", "v_prediction")), 10);
        assertParity("DDIM v_prediction", out, 52.5302, 0.0684);
    }

    @Test
    void fullLoopWithSetAlphaToOneMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(
                new DdimScheduler(base("set_alpha_to_one", true, "beta_start", 0.01)), 10);
        assertParity("DDIM set_alpha_to_one", out, 149.8295, 0.1951);
    }

    @Test
    void fullLoopWithNoSetAlphaToOneMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopA(
                new DdimScheduler(base("set_alpha_to_one", false, "beta_start", 0.01)), 10);
        assertParity("DDIM no_set_alpha_to_one", out, 149.0784, 0.1941);
    }

    @Test
    void fullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopAWithNoise(new DdimScheduler(base()), 10, 8);
        assertParity("DDIM with_noise", out, 354.5418, 0.4616);
    }

    @Test
    void leadingTimestepsAreMultiplesOfTheRatio() {
        DdimScheduler s = new DdimScheduler(base());
        s.setTimesteps(10);
        assertThat(s.timesteps()).containsExactly(900, 800, 700, 600, 500, 400, 300, 200, 100, 0);
    }

    @Test
    void stepsOffsetShiftsLeadingTimesteps() {
        DdimScheduler s = new DdimScheduler(base("steps_offset", 1));
        s.setTimesteps(5);
        assertThat(s.timesteps()).containsExactly(801, 601, 401, 201, 1);
    }

    @Test
    void trailingTimestepsEndAtTheLastTrainingStep() {
        DdimScheduler s = new DdimScheduler(base("timestep_spacing", "trailing"));
        s.setTimesteps(10);
        assertThat(s.timesteps()).containsExactly(999, 899, 799, 699, 599, 499, 399, 299, 199, 99);
    }

    @Test
    void stepLeavesItsInputsUntouched() {
        DdimScheduler s = new DdimScheduler(base());
        s.setTimesteps(10);
        FloatTensor sample = DiffusersHarness.sampleDeter();
        FloatTensor eps = DiffusersHarness.noiseDeter();
        float[] before = sample.array().clone();
        float[] epsBefore = eps.array().clone();
        FloatTensor out = s.step(eps, 900, sample, new DiffusersHarness.NoRandom());
        assertThat(out).isNotSameAs(sample);
        assertThat(sample.array()).containsExactly(before);
        assertThat(eps.array()).containsExactly(epsBefore);
    }

    @Test
    void etaAboveZeroDrawsOneNoiseTensorPerStep() {
        DdimScheduler s = new DdimScheduler(base("eta", 1.0));
        s.setTimesteps(4);
        CountingRandom random = new CountingRandom();
        FloatTensor sample = DiffusersHarness.sampleDeter();
        for (float t : s.timesteps()) {
            sample = s.step(DiffusersHarness.model(sample, t), t, sample, random);
        }
        assertThat(random.randnShapes).hasSize(4).allSatisfy(shape -> assertThat(shape).containsExactly(4, 3, 8, 8));
    }

    @Test
    void effectiveConfigCarriesDefaultsAndTheClassName() {
        SchedulerConfig c = new DdimScheduler(SchedulerConfig.of(Map.of("unknown_key", 3))).config();
        assertThat(c.className()).isEqualTo("DDIMScheduler");
        assertThat(c.asMap()).containsEntry("timestep_spacing", "leading").containsEntry("set_alpha_to_one", true)
                .containsEntry("eta", 0.0).containsEntry("unknown_key", 3);
    }
}
