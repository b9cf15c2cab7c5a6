package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.assertMean;
import static io.conditio.plugins.schedulers.DiffusersHarness.assertParity;
import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.SchedulerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** DEIS parity with diffusers' {@code test_scheduler_deis.py} (loop A). */
class DeisSchedulerTest {

    private static SchedulerConfig base(Object... overrides) {
        return config("num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear", "solver_order", 2).with(config(overrides).asMap());
    }

    @Test
    void fullLoopNoNoiseMatchesDiffusers() {
        assertMean("DEIS no_noise", DiffusersHarness.loopA(new DeisScheduler(base()), 10), 0.23916);
    }

    @Test
    void fullLoopWithVPredictionMatchesDiffusers() {
        assertMean("DEIS v_prediction",
                DiffusersHarness.loopA(new DeisScheduler(base("prediction_type", "v_prediction")), 10), 0.091);
    }

    @Test
    void fullLoopWithNoiseMatchesDiffusers() {
        FloatTensor out = DiffusersHarness.loopAWithNoise(new DeisScheduler(base()), 10, 8);
        assertParity("DEIS with_noise", out, 315.3016, 0.41054);
    }

    @ParameterizedTest(name = "order {0} {1} karras {2}")
    @CsvSource({"1, epsilon, false", "3, epsilon, false", "3, sample, true", "2, v_prediction, true"})
    void everyOrderRunsWithoutNaNs(int order, String prediction, boolean karras) {
        FloatTensor out = DiffusersHarness.loopA(new DeisScheduler(base("solver_order", order, "prediction_type",
                prediction, "use_karras_sigmas", karras)), 10);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }
}
