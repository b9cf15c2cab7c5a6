package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopA;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopAWithNoise;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import io.conditio.core.random.TorchGenerator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * DDPM: the posterior variance anchors of diffusers' {@code test_scheduler_ddpm.py}, and its full loops (all 1000
 * training steps) with the torch-compatible generator (seed 0).
 */
class DdpmSchedulerTest implements FullLoopParity {

    private static DdpmScheduler ddpm(Object... overrides) {
        return new DdpmScheduler(DiffusersHarness.with(linearBetas(1000, "variance_type", "fixed_small",
                "clip_sample", true), overrides));
    }

    @Test
    void posteriorVarianceMatchesDiffusers() {
        DdpmScheduler s = ddpm();
        s.setTimesteps(1000);
        assertThat(s.varianceAt(0)).isCloseTo(0f, within(1e-5f));
        assertThat(s.varianceAt(487)).isCloseTo(0.00979f, within(1e-5f));
        assertThat(s.varianceAt(999)).isCloseTo(0.02f, within(1e-5f));
    }

    @Test
    void drawsNoiseInEveryStepButTheLast() {
        CountingRandom random = new CountingRandom();
        loopA(ddpm(), 10, random);
        random.assertDrewSampleShapedNoise(9);
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.of("DDPM no_noise (torch seed 0)", () -> loopA(ddpm(), 1000, new TorchGenerator(0)),
                        258.9606, 0.3372),
                ParityRow.of("DDPM v_prediction (torch seed 0)",
                        () -> loopA(ddpm("prediction_type", "v_prediction"), 1000, new TorchGenerator(0)),
                        202.0296, 0.2631),
                ParityRow.of("DDPM with_noise (torch seed 0)",
                        () -> loopAWithNoise(ddpm(), 1000, 998, new TorchGenerator(0)), 387.9466, 0.5051));
    }

    @Test
    void fixedLargeLogIsRefusedBecauseItWouldBeNaN() {
        assertThatThrownBy(() -> ddpm("variance_type", "fixed_large_log"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("fixed_large");
    }

    @Test
    void learnedRangeSplitsTheModelOutputIntoMeanAndVariance() {
        DdpmScheduler s = ddpm("variance_type", "learned_range");
        s.setTimesteps(10);
        FloatTensor sample = DiffusersHarness.sampleDeter();
        FloatTensor doubled = FloatTensor.concatChannels(DiffusersHarness.noiseDeter(), FloatTensor.zeros(4, 3, 8, 8));
        FloatTensor out = s.step(doubled, s.timesteps()[0], sample, new CountingRandom());
        assertThat(out.shape()).containsExactly(4, 3, 8, 8);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }
}
