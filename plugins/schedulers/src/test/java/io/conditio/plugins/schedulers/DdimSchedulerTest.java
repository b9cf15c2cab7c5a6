package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopA;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopAWithNoise;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** DDIM parity with diffusers' {@code test_scheduler_ddim.py} and the contract details. */
class DdimSchedulerTest implements FullLoopParity {

    private static DdimScheduler ddim(Object... overrides) {
        return new DdimScheduler(DiffusersHarness.with(linearBetas(1000, "clip_sample", true), overrides));
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.of("DDIM no_noise", () -> loopA(ddim(), 10), 172.0067, 0.223967),
                ParityRow.of("DDIM v_prediction", () -> loopA(ddim("prediction_type", "v_prediction"), 10),
                        52.5302, 0.0684),
                ParityRow.of("DDIM set_alpha_to_one",
                        () -> loopA(ddim("set_alpha_to_one", true, "beta_start", 0.01), 10), 149.8295, 0.1951),
                ParityRow.of("DDIM no_set_alpha_to_one",
                        () -> loopA(ddim("set_alpha_to_one", false, "beta_start", 0.01), 10), 149.0784, 0.1941),
                ParityRow.of("DDIM with_noise", () -> loopAWithNoise(ddim(), 10, 8), 354.5418, 0.4616));
    }

    @Test
    void leadingTimestepsAreMultiplesOfTheRatio() {
        DdimScheduler s = ddim();
        s.setTimesteps(10);
        assertThat(s.timesteps()).containsExactly(900, 800, 700, 600, 500, 400, 300, 200, 100, 0);
    }

    @Test
    void stepsOffsetShiftsLeadingTimesteps() {
        DdimScheduler s = ddim("steps_offset", 1);
        s.setTimesteps(5);
        assertThat(s.timesteps()).containsExactly(801, 601, 401, 201, 1);
    }

    @Test
    void trailingTimestepsEndAtTheLastTrainingStep() {
        DdimScheduler s = ddim("timestep_spacing", "trailing");
        s.setTimesteps(10);
        assertThat(s.timesteps()).containsExactly(999, 899, 799, 699, 599, 499, 399, 299, 199, 99);
    }

    @Test
    void stepLeavesItsInputsUntouched() {
        DdimScheduler s = ddim();
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
        CountingRandom random = new CountingRandom();
        loopA(ddim("eta", 1.0), 4, random);
        random.assertDrewSampleShapedNoise(4);
    }

    @Test
    void effectiveConfigCarriesDefaultsAndTheClassName() {
        SchedulerConfig c = new DdimScheduler(SchedulerConfig.of(Map.of("unknown_key", 3))).config();
        assertThat(c.className()).isEqualTo("DDIMScheduler");
        assertThat(c.asMap()).containsEntry("timestep_spacing", "leading").containsEntry("set_alpha_to_one", true)
                .containsEntry("eta", 0.0).containsEntry("unknown_key", 3);
    }
}
