package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import org.junit.jupiter.api.Test;

/** Heun parity with diffusers' {@code test_scheduler_heun.py} (loop B), and its order-2 timestep layout. */
class HeunSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear").with(config(overrides).asMap());
    }

    @Test
    void fullLoopNoNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new HeunScheduler(base()), 10);
        assertParity("Heun no_noise", out, 0.1233, 0.0002);
    }

    @Test
    void fullLoopWithVPredictionMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new HeunScheduler(base("prediction_type", "v_prediction")), 10);
        assertParity("Heun v_prediction", out, 4.6934e-07, 6.1112e-10);
    }

    @Test
    void fullLoopWithKarrasSigmasMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new HeunScheduler(base("use_karras_sigmas", true)), 10);
        assertParity("Heun karras_sigmas", out, 0.00015, 1e-2, 1.9869554535034695e-07, 1e-2);
    }

    @Test
    void fullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopBWithNoise(new HeunScheduler(base()), 10, 8);
        assertParity("Heun with_noise", out, 75074.8906, 97.7538);
    }

    @Test
    void isOrderTwoAndVisitsEveryInteriorTimestepTwice() {
        HeunScheduler s = new HeunScheduler(base());
        s.setTimesteps(10);
        float[] t = s.timesteps();
        assertThat(s.order()).isEqualTo(2);
        assertThat(t).hasSize(19);
        assertThat(t[0]).isEqualTo(1099f);
        for (int i = 1; i < 10; i++) {
            assertThat(t[2 * i - 1]).isEqualTo(t[2 * i]);
        }
        assertThat(t[18]).isEqualTo(0f);
    }

    @Test
    void aDuplicatedTimestepLooksUpItsSecondOccurrence() {
        HeunScheduler s = new HeunScheduler(base());
        s.setTimesteps(10);
        float[] t = s.timesteps();
        // with_noise starts at timesteps[16], the second copy of t_8: the first call is a fresh predictor step
        FloatTensor one = FloatTensor.full(1f, 1, 1, 1, 1);
        FloatTensor zero = FloatTensor.zeros(1, 1, 1, 1);
        float atSecondCopy = s.addNoise(zero, one, t[16]).get(0);
        assertThat(t[15]).isEqualTo(t[16]);
        HeunScheduler begun = new HeunScheduler(base());
        begun.setTimesteps(10);
        begun.setBeginIndex(16);
        assertThat(begun.addNoise(zero, one, t[16]).get(0)).isEqualTo(atSecondCopy);
    }
}
