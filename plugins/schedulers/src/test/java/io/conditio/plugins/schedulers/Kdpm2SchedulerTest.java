package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopB;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopBWithNoise;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.core.random.TorchGenerator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** KDPM2 and KDPM2 ancestral parity with diffusers' {@code test_scheduler_kdpm2_*.py} (loop B). */
class Kdpm2SchedulerTest implements FullLoopParity {

    private static Kdpm2Scheduler kdpm2(Object... overrides) {
        return new Kdpm2Scheduler(linearBetas(1100, overrides));
    }

    private static Kdpm2AncestralScheduler ancestral(Object... overrides) {
        return new Kdpm2AncestralScheduler(linearBetas(1100, overrides));
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.of("KDPM2 no_noise", () -> loopB(kdpm2(), 10), 20.4125, 0.0266),
                ParityRow.of("KDPM2 v_prediction", () -> loopB(kdpm2("prediction_type", "v_prediction"), 10),
                        4.6934e-07, 6.1112e-10),
                ParityRow.of("KDPM2 with_noise", () -> loopBWithNoise(kdpm2(), 10, 8), 70408.4062, 91.6776),
                ParityRow.of("KDPM2Ancestral no_noise (torch seed 0)",
                        () -> loopB(ancestral(), 10, new TorchGenerator(0)), 13979.9433, 1e-2, 18.2030, 5e-3),
                ParityRow.of("KDPM2Ancestral v_prediction (torch seed 0)",
                        () -> loopB(ancestral("prediction_type", "v_prediction"), 10, new TorchGenerator(0)),
                        331.8133, 0.4320),
                ParityRow.of("KDPM2Ancestral with_noise (torch seed 0)",
                        () -> loopBWithNoise(ancestral(), 10, 8, new TorchGenerator(0)),
                        93087.3437, 1e-2, 121.2074, 5e-3));
    }

    @Test
    void isOrderTwoAndInterleavesMidpointTimesteps() {
        Kdpm2Scheduler s = kdpm2();
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
        Kdpm2AncestralScheduler s = ancestral();
        CountingRandom random = new CountingRandom();
        FloatTensor out = loopB(s, 10, random);
        // 19 model calls: 9 corrector calls draw; the final Euler step to sigma 0 does not
        random.assertDrewSampleShapedNoise(9);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }

    @Test
    void ancestralCosineScheduleHasNoNaNs() {
        for (int steps : new int[] {4, 10}) {
            Kdpm2AncestralScheduler s = ancestral("beta_schedule", "squaredcos_cap_v2");
            FloatTensor out = loopB(s, steps, new CountingRandom());
            for (float t : s.timesteps()) {
                assertThat(Float.isFinite(t)).isTrue();
            }
            assertThat(DiffusersHarness.allFinite(out)).isTrue();
        }
    }
}
