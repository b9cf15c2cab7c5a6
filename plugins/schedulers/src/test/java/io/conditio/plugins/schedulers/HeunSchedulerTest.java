package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopB;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopBWithNoise;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Heun parity with diffusers' {@code test_scheduler_heun.py} (loop B), and its order-2 timestep layout. */
class HeunSchedulerTest implements FullLoopParity {

    private static HeunScheduler heun(Object... overrides) {
        return new HeunScheduler(linearBetas(1100, overrides));
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.of("Heun no_noise", () -> loopB(heun(), 10), 0.1233, 0.0002),
                ParityRow.of("Heun v_prediction", () -> loopB(heun("prediction_type", "v_prediction"), 10),
                        4.6934e-07, 6.1112e-10),
                ParityRow.of("Heun karras_sigmas", () -> loopB(heun("use_karras_sigmas", true), 10),
                        0.00015, 1e-2, 1.9869554535034695e-07, 1e-2),
                ParityRow.of("Heun with_noise", () -> loopBWithNoise(heun(), 10, 8), 75074.8906, 97.7538));
    }

    @Test
    void isOrderTwoAndVisitsEveryInteriorTimestepTwice() {
        HeunScheduler s = heun();
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
        HeunScheduler s = heun();
        s.setTimesteps(10);
        float[] t = s.timesteps();
        // with_noise starts at timesteps[16], the second copy of t_8: the first call is a fresh predictor step
        FloatTensor one = FloatTensor.full(1f, 1, 1, 1, 1);
        FloatTensor zero = FloatTensor.zeros(1, 1, 1, 1);
        float atSecondCopy = s.addNoise(zero, one, t[16]).get(0);
        assertThat(t[15]).isEqualTo(t[16]);
        HeunScheduler begun = heun();
        begun.setTimesteps(10);
        begun.setBeginIndex(16);
        assertThat(begun.addNoise(zero, one, t[16]).get(0)).isEqualTo(atSecondCopy);
    }
}
