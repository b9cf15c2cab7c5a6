package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** PNDM parity with diffusers' {@code test_scheduler_pndm.py}: PRK warm-up then PLMS. */
class PndmSchedulerTest implements FullLoopParity {

    private static PndmScheduler pndm(Object... overrides) {
        return new PndmScheduler(linearBetas(1000, overrides));
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.of("PNDM no_noise", () -> loopA(pndm(), 10), 198.1318, 0.2580),
                ParityRow.of("PNDM v_prediction", () -> loopA(pndm("prediction_type", "v_prediction"), 10),
                        67.3986, 0.0878),
                ParityRow.of("PNDM set_alpha_to_one",
                        () -> loopA(pndm("set_alpha_to_one", true, "beta_start", 0.01), 10), 230.0399, 0.2995),
                ParityRow.of("PNDM no_set_alpha_to_one",
                        () -> loopA(pndm("set_alpha_to_one", false, "beta_start", 0.01), 10), 186.9482, 0.2434));
    }

    @Test
    void timestepsListPrkStagesThenPlmsSteps() {
        PndmScheduler s = pndm();
        s.setTimesteps(10);
        assertThat(s.timesteps()).containsExactly(
                900, 850, 850, 800, 800, 750, 750, 700, 700, 650, 650, 600,
                600, 500, 400, 300, 200, 100, 0);
    }

    @Test
    void skippingPrkStepsVisitsTheSecondTimestepTwice() {
        PndmScheduler s = pndm("skip_prk_steps", true, "steps_offset", 1);
        s.setTimesteps(10);
        assertThat(s.timesteps()).containsExactly(901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1);
        FloatTensor out = loopA(s, 10);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }

    @Test
    void samplePredictionIsRefusedNamingTheAllowedValues() {
        assertThatThrownBy(() -> pndm("prediction_type", "sample"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("prediction_type").hasMessageContaining("epsilon, v_prediction");
    }
}
