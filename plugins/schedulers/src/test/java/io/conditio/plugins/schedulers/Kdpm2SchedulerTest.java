package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import io.conditio.core.random.TorchGenerator;
import org.junit.jupiter.api.Test;

/** KDPM2 and KDPM2 ancestral parity with diffusers' {@code test_scheduler_kdpm2_*.py} (loop B). */
class Kdpm2SchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear").with(config(overrides).asMap());
    }

    @Test
    void fullLoopNoNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new Kdpm2Scheduler(base()), 10);
        assertParity("KDPM2 no_noise", out, 20.4125, 0.0266);
    }

    @Test
    void fullLoopWithVPredictionMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new Kdpm2Scheduler(base("prediction_type", "v_prediction")), 10);
        assertParity("KDPM2 v_prediction", out, 4.6934e-07, 6.1112e-10);
    }

    @Test
    void fullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopBWithNoise(new Kdpm2Scheduler(base()), 10, 8);
        assertParity("KDPM2 with_noise", out, 70408.4062, 91.6776);
    }

    @Test
    void isOrderTwoAndInterleavesMidpointTimesteps() {
        Kdpm2Scheduler s = new Kdpm2Scheduler(base());
        s.setTimesteps(10);
        float[] t = s.timesteps();
        assertThat(s.order()).isEqualTo(2);
        assertThat(t).hasSize(19);
        for (int i = 1; i < 10; i++) {
            // the midpoint lies between the two neighbouring timesteps
            assertThat(t[2 * i - 1]).isLessThan(t[2 * i - 2]).isGreaterThan(t[2 * i]);
        }
    }

    @Test
    void ancestralVariantDrawsOncePerStepInTheSecondCall() {
        Kdpm2AncestralScheduler s = new Kdpm2AncestralScheduler(base());
        CountingRandom random = new CountingRandom();
        FloatTensor out = DiffusersHarness.loopB(s, 10, random);
        // 19 model calls: 9 corrector calls draw; the final Euler step to sigma 0 does not
        assertThat(random.randnShapes).hasSize(9).allSatisfy(shape -> assertThat(shape).containsExactly(4, 3, 8, 8));
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }

    @Test
    void ancestralSeededFullLoopMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(new Kdpm2AncestralScheduler(base()), 10, new TorchGenerator(0));
        assertParity("KDPM2Ancestral no_noise (torch seed 0)", out, 13979.9433, 1e-2, 18.2030, 5e-3);
    }

    @Test
    void ancestralSeededFullLoopWithVPredictionMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopB(
                new Kdpm2AncestralScheduler(base("prediction_type", "v_prediction")), 10, new TorchGenerator(0));
        assertParity("KDPM2Ancestral v_prediction (torch seed 0)", out, 331.8133, 0.4320);
    }

    @Test
    void ancestralSeededFullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopBWithNoise(
                new Kdpm2AncestralScheduler(base()), 10, 8, new TorchGenerator(0));
        assertParity("KDPM2Ancestral with_noise (torch seed 0)", out, 93087.3437, 1e-2, 121.2074, 5e-3);
    }

    @Test
    void ancestralCosineScheduleHasNoNaNs() {
        for (int steps : new int[] {4, 10}) {
            Kdpm2AncestralScheduler s = new Kdpm2AncestralScheduler(base("beta_schedule", "squaredcos_cap_v2"));
            FloatTensor out = DiffusersHarness.loopB(s, steps, new CountingRandom());
            for (float t : s.timesteps()) {
                assertThat(Float.isFinite(t)).isTrue();
            }
            assertThat(DiffusersHarness.allFinite(out)).isTrue();
        }
    }
}
