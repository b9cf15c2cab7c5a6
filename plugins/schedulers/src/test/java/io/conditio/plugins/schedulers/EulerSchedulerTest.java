package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopB;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopBWithNoise;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.conditio.api.FloatTensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Euler parity with diffusers' {@code test_scheduler_euler.py} (loop B) and the contract details. */
class EulerSchedulerTest implements FullLoopParity {

    private static EulerScheduler euler(Object... overrides) {
        return new EulerScheduler(linearBetas(1100, overrides));
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.of("Euler no_noise", () -> loopB(euler(), 10), 10.0807, 0.0131),
                ParityRow.of("Euler v_prediction", () -> loopB(euler("prediction_type", "v_prediction"), 10),
                        0.0002, 2.2676e-06),
                ParityRow.of("Euler karras_sigmas", () -> loopB(euler("use_karras_sigmas", true), 10),
                        124.52299499511719, 0.16213932633399963),
                ParityRow.of("Euler with_noise", () -> loopBWithNoise(euler(), 10, 8), 57062.9297, 74.3007));
    }

    @Test
    void linspaceTimestepsAreFloat32AndInitNoiseSigmaIsTheLargestSigma() {
        EulerScheduler s = euler();
        s.setTimesteps(10);
        float[] t = s.timesteps();
        assertThat(t).hasSize(10);
        assertThat(t[0]).isEqualTo(1099f);
        assertThat(t[1]).isEqualTo((float) (1099.0 / 9 * 8));
        assertThat(t[1]).isCloseTo(976.8889f, within(1e-4f));
        assertThat(t[2]).isCloseTo(854.7778f, within(1e-4f));
        assertThat(t[9]).isEqualTo(0f);
        assertThat(s.initNoiseSigma()).isCloseTo(261.0556f, within(1e-3f));
    }

    @Test
    void stableDiffusionScaledLinearSigmasSpanTheKnownRange() {
        EulerScheduler s = new EulerScheduler(config("beta_start", 0.00085, "beta_end", 0.012,
                "beta_schedule", "scaled_linear", "num_train_timesteps", 1000));
        s.setTimesteps(1000);
        assertThat(s.initNoiseSigma()).isCloseTo(14.614647f, within(1e-5f));
        FloatTensor one = FloatTensor.full(1f, 1, 1, 1, 1);
        // add_noise at the last timestep (t = 0) scales the noise by sigma_min
        FloatTensor noised = s.addNoise(FloatTensor.zeros(1, 1, 1, 1), one, 0f);
        assertThat(noised.get(0)).isCloseTo(0.029167533f, within(1e-8f));
    }

    @Test
    void beginIndexDecidesTheFirstSigmaForAddNoise() {
        EulerScheduler s = euler();
        s.setTimesteps(10);
        s.setBeginIndex(3);
        FloatTensor one = FloatTensor.full(1f, 1, 1, 1, 1);
        FloatTensor zero = FloatTensor.zeros(1, 1, 1, 1);
        float atBegin = s.addNoise(zero, one, s.timesteps()[0]).get(0);
        EulerScheduler t = euler();
        t.setTimesteps(10);
        float looked = t.addNoise(zero, one, t.timesteps()[3]).get(0);
        assertThat(atBegin).isEqualTo(looked);
    }

    @Test
    void churnDrawsNoiseFromTheGenerator() {
        EulerScheduler s = euler("s_churn", 1.0);
        s.setTimesteps(3);
        CountingRandom random = new CountingRandom();
        FloatTensor sample = DiffusersHarness.sampleDeter();
        for (float t : s.timesteps()) {
            FloatTensor in = s.scaleModelInput(sample, t);
            sample = s.step(DiffusersHarness.model(in, t), t, sample, random);
        }
        assertThat(random.randnShapes).hasSize(3);
    }
}
