package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.SchedulerConfig;
import io.conditio.core.random.TorchGenerator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** LCM and TCD parity with diffusers' {@code test_scheduler_lcm.py} and {@code test_scheduler_tcd.py} (loop A). */
class ConsistencySchedulerTest implements FullLoopParity {

    private static final SchedulerConfig BASE = config("num_train_timesteps", 1000, "beta_start", 0.00085,
            "beta_end", 0.0120, "beta_schedule", "scaled_linear", "prediction_type", "epsilon");

    private static LcmScheduler lcm() {
        return new LcmScheduler(BASE);
    }

    private static TcdScheduler tcd(Object... overrides) {
        return new TcdScheduler(DiffusersHarness.with(BASE, overrides));
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.of("LCM onestep", () -> loopA(lcm(), 1), 18.7097, 1e-3, 0.0244, 1e-3),
                ParityRow.of("LCM multistep (torch seed 0)", () -> loopA(lcm(), 10, new TorchGenerator(0)),
                        197.7616, 0.2575),
                ParityRow.of("TCD onestep_deter", () -> loopA(tcd(), 1), 29.8715, 1e-3, 0.0389, 1e-3),
                ParityRow.of("TCD multistep_deter", () -> loopA(tcd(), 10), 181.2040, 1e-3, 0.2359, 1e-3));
    }

    @Test
    void lcmTimestepsAreTakenFromTheDistillationGrid() {
        LcmScheduler s = lcm();
        s.setTimesteps(4);
        assertThat(s.timesteps()).containsExactly(999, 759, 499, 259);
    }

    @Test
    void lcmReNoisesBetweenStepsButNotAfterTheLast() {
        CountingRandom random = new CountingRandom();
        loopA(lcm(), 4, random);
        assertThat(random.randnShapes).hasSize(3);
    }

    @Test
    void lcmRefusesMoreStepsThanTheDistillationGrid() {
        LcmScheduler s = lcm();
        assertThatThrownBy(() -> s.setTimesteps(51)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("original_inference_steps");
    }

    @Test
    void tcdWithEtaDrawsNoiseInEveryStepButTheLast() {
        CountingRandom random = new CountingRandom();
        FloatTensor out = loopA(tcd("eta", 0.3), 4, random);
        assertThat(random.randnShapes).hasSize(3);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }
}
