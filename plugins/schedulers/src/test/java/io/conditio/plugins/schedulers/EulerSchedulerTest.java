package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import org.junit.jupiter.api.Test;

/** Euler parity with diffusers' {@code test_scheduler_euler.py} (loop B) and the contract details. */
class EulerSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear").with(config(overrides).asMap());
    }

    @Test
    void fullLoopNoNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new EulerScheduler(base()), 10);
        assertParity("Euler no_noise", out, 10.0807, 0.0131);
    }

    @Test
    void fullLoopWithVPredictionMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new EulerScheduler(base("prediction_type", "v_prediction")), 10);
        assertParity("Euler v_prediction", out, 0.0002, 2.2676e-06);
    }

    @Test
    void fullLoopWithKarrasSigmasMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new EulerScheduler(base("use_karras_sigmas", true)), 10);
        assertParity("Euler karras_sigmas", out, 124.52299499511719, 0.16213932633399963);
    }

    @Test
    void fullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopBWithNoise(new EulerScheduler(base()), 10, 8);
        assertParity("Euler with_noise", out, 57062.9297, 74.3007);
    }

    @Test
    void linspaceTimestepsAreFloat32AndInitNoiseSigmaIsTheLargestSigma() {
        EulerScheduler s = new EulerScheduler(base());
        s.setTimesteps(10);
        float[] t = s.timesteps();
        assertThat(t).hasSize(10);
        assertThat(t[0]).isEqualTo(1099f);
        assertThat(t[1]).isEqualTo((float) (1099.0 / 9 * 8));
        assertThat(t[1]).isCloseTo(976.8889f, within(1e-4f));
        assertThat(t[2]).isCloseTo(854.7778f, within(1e-4f));
        assertThat(t[9]).isEqualTo(0f);
        assertThat(s.initNoiseSigma()).isCloseTo(261.0556f, within(1e-3f));
    }

    @Test
    void stableDiffusionScaledLinearSigmasSpanTheKnownRange() {
        EulerScheduler s = new EulerScheduler(config("beta_start", 0.00085, "beta_end", 0.012,
                "beta_schedule", "scaled_linear", "num_train_timesteps", 1000));
        s.setTimesteps(1000);
        assertThat(s.initNoiseSigma()).isCloseTo(14.614647f, within(1e-5f));
        FloatTensor one = FloatTensor.full(1f, 1, 1, 1, 1);
        // add_noise at the last timestep (t = 0) scales the noise by sigma_min
        FloatTensor noised = s.addNoise(FloatTensor.zeros(1, 1, 1, 1), one, 0f);
        assertThat(noised.get(0)).isCloseTo(0.029167533f, within(1e-8f));
    }

    @Test
    void beginIndexDecidesTheFirstSigmaForAddNoise() {
        EulerScheduler s = new EulerScheduler(base());
        s.setTimesteps(10);
        s.setBeginIndex(3);
        FloatTensor one = FloatTensor.full(1f, 1, 1, 1, 1);
        FloatTensor zero = FloatTensor.zeros(1, 1, 1, 1);
        float atBegin = s.addNoise(zero, one, s.timesteps()[0]).get(0);
        EulerScheduler t = new EulerScheduler(base());
        t.setTimesteps(10);
        float looked = t.addNoise(zero, one, t.timesteps()[3]).get(0);
        assertThat(atBegin).isEqualTo(looked);
    }

    @Test
    void churnDrawsNoiseFromTheGenerator() {
        EulerScheduler s = new EulerScheduler(base("s_churn", 1.0));
        s.setTimesteps(3);
        CountingRandom random = new CountingRandom();
        FloatTensor sample = DiffusersHarness.sampleDeter();
        for (float t : s.timesteps()) {
            FloatTensor in = s.scaleModelInput(sample, t);
            sample = s.step(DiffusersHarness.model(in, t), t, sample, random);
        }
        assertThat(random.randnShapes).hasSize(3);
    }
}
