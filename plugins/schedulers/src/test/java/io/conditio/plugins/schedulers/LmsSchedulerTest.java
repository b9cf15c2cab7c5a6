package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import org.junit.jupiter.api.Test;

/** LMS parity with diffusers' {@code test_scheduler_lms.py} (loop B). */
class LmsSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear").with(config(overrides).asMap());
    }

    @Test
    void fullLoopNoNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new LmsScheduler(base()), 10);
        assertParity("LMS no_noise", out, 1006.388, 1.31);
    }

    @Test
    void fullLoopWithVPredictionMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new LmsScheduler(base("prediction_type", "v_prediction")), 10);
        assertParity("LMS v_prediction", out, 0.0017, 2.2676e-06);
    }

    @Test
    void fullLoopWithKarrasSigmasMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new LmsScheduler(base("use_karras_sigmas", true)), 10);
        assertParity("LMS karras_sigmas", out, 3812.9927, 2e-2, 4.9648, 1e-3);
    }

    @Test
    void fullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopBWithNoise(new LmsScheduler(base()), 10, 8);
        assertParity("LMS with_noise", out, 27663.6895, 36.0204);
    }

    @Test
    void quadratureIntegratesTheLagrangePolynomialsExactly() {
        // the integral of (x - 1)(x - 2) over [0, 3] is 1.5
        double v = GaussKronrodQuadrature.integrate(x -> (x - 1) * (x - 2), 0, 3, 1.49e-8, 1e-4);
        assertThat(v).isCloseTo(1.5, within(1e-13));
    }
}
