package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import org.junit.jupiter.api.Test;

/** Flow-matching Euler: the timestep/sigma schedule and the exactness of Euler on a straight flow. */
class FlowMatchEulerSchedulerTest {

    @Test
    void unshiftedTimestepsRunLinearlyFromNToOne() {
        FlowMatchEulerScheduler s = new FlowMatchEulerScheduler(config());
        s.setTimesteps(4);
        assertThat(s.timesteps()).containsExactly(1000f, 667f, 334f, 1f);
    }

    @Test
    void shiftMovesTheScheduleTowardsHighNoise() {
        FlowMatchEulerScheduler s = new FlowMatchEulerScheduler(config("shift", 3.0));
        s.setTimesteps(4);
        float[] t = s.timesteps();
        assertThat(t[0]).isEqualTo(1000f);
        // diffusers shifts the training sigma_min once in __init__ and the inference sigmas again
        double sigmaMin = 3 * 0.001 / (1 + 2 * 0.001);
        double s1 = 1 + (sigmaMin - 1) / 3;
        assertThat(t[1]).isCloseTo((float) (3 * s1 / (1 + 2 * s1) * 1000), within(1e-3f));
        assertThat(t[1]).isGreaterThan(667f);
    }

    @Test
    void eulerFollowsAStraightFlowExactlyToItsEnd() {
        FlowMatchEulerScheduler s = new FlowMatchEulerScheduler(config("shift", 3.0));
        s.setTimesteps(8);
        FloatTensor x0 = DiffusersHarness.sampleDeter();
        FloatTensor noise = DiffusersHarness.noiseDeter();
        FloatTensor velocity = noise.sub(x0);
        FloatTensor x = s.addNoise(x0, noise, s.timesteps()[0]);
        for (float t : s.timesteps()) {
            x = s.step(velocity, t, x, new DiffusersHarness.NoRandom());
        }
        for (int i = 0; i < x.size(); i++) {
            assertThat(x.get(i)).isCloseTo(x0.get(i), within(1e-5f));
        }
    }

    @Test
    void dynamicShiftingWithoutMuIsRefusedWithTheFix() {
        assertThatThrownBy(() -> new FlowMatchEulerScheduler(config("use_dynamic_shifting", true)))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("mu");
    }

    @Test
    void stochasticSamplingDrawsFromTheGenerator() {
        FlowMatchEulerScheduler s = new FlowMatchEulerScheduler(config("stochastic_sampling", true));
        CountingRandom random = new CountingRandom();
        DiffusersHarness.loopA(s, 3, random);
        assertThat(random.randnShapes).hasSize(3);
    }
}
