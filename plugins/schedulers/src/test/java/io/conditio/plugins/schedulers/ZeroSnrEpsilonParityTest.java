package io.conditio.plugins.schedulers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.core.json.Json;
import io.conditio.core.random.TorchGenerator;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Zero terminal SNR ({@code rescale_betas_zero_snr}) with epsilon prediction against diffusers' own scheduler classes
 * ({@code tools/zero-snr-fixtures}): where diffusers runs (Euler, Euler ancestral, DPM-Solver++ and its SDE variant,
 * UniPC, which clamp the last {@code alphas_cumprod} to 2^-24, and DDIM with a spacing that does not start at the
 * last training step) the full loop of its scheduler tests gives its final sample; where diffusers gives NaNs (DDIM,
 * DDPM, LCM and TCD stepping from the terminal timestep) the scheduler refuses, naming the reason.
 *
 * <p>Tolerance: every compared element within {@code 1e-5 * max(1, |expected|)}, the sum of magnitudes within
 * {@code 1e-6} relative (seen: 3.6e-7 and 4.3e-7); both sides compute in float32.
 */
class ZeroSnrEpsilonParityTest {
    private static final Map<String, Function<SchedulerConfig, Scheduler>> CLASSES = Map.of(
            "EulerDiscreteScheduler", EulerScheduler::new,
            "EulerAncestralDiscreteScheduler", EulerAncestralScheduler::new,
            "DPMSolverMultistepScheduler", DpmSolverMultistepScheduler::new,
            "UniPCMultistepScheduler", UniPcScheduler::new,
            "DDIMScheduler", DdimScheduler::new,
            "DDPMScheduler", DdpmScheduler::new,
            "LCMScheduler", LcmScheduler::new,
            "TCDScheduler", TcdScheduler::new);

    @SuppressWarnings("unchecked")
    static Stream<Arguments> cases() throws URISyntaxException {
        Path file = Path.of(ZeroSnrEpsilonParityTest.class.getResource("/zero-snr-epsilon.json").toURI());
        List<Map<String, Object>> cases = (List<Map<String, Object>>) Json.parseObject(file).get("cases");
        return cases.stream().map(c -> Arguments.of(c.get("name"), c));
    }

    /**
     * The loop of diffusers' pipelines (and of the fixture script): the model sees the scaled sample, the step gets
     * the unscaled one. (diffusers' Euler tests, {@link DiffusersHarness#loopB}, hand the scaled one to both.)
     */
    private static FloatTensor pipelineLoop(Scheduler s, int steps, RandomSource random) {
        s.setTimesteps(steps);
        FloatTensor sample = DiffusersHarness.sampleDeter().mul(s.initNoiseSigma());
        for (float t : s.timesteps()) {
            FloatTensor out = DiffusersHarness.model(s.scaleModelInput(sample, t), t);
            sample = s.step(out, t, sample, random);
        }
        return sample;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    @SuppressWarnings("unchecked")
    void matchesDiffusersOrRefusesWhereItGivesNaN(String name, Map<String, Object> c) {
        SchedulerConfig config = SchedulerConfig.of((Map<String, Object>) c.get("config"));
        Scheduler s = CLASSES.get((String) c.get("class")).apply(config);
        int steps = ((Number) c.get("steps")).intValue();
        if (!(Boolean) c.get("finite")) {
            assertThatThrownBy(() -> s.setTimesteps(steps)).as(name).isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("rescale_betas_zero_snr").hasMessageContaining("epsilon")
                    .hasMessageContaining("timestep 999").hasMessageContaining("divides by zero")
                    .hasMessageContaining("v_prediction");
            return;
        }
        RandomSource random = c.get("seed") == null ? new DiffusersHarness.NoRandom()
                : new TorchGenerator(((Number) c.get("seed")).longValue());
        FloatTensor out = pipelineLoop(s, steps, random);

        List<Number> timesteps = (List<Number>) c.get("timesteps");
        float[] ours = s.timesteps();
        assertThat(ours).as(name + " timesteps").hasSize(timesteps.size());
        for (int i = 0; i < ours.length; i++) {
            assertThat(ours[i]).as(name + " timestep " + i).isEqualTo(timesteps.get(i).floatValue());
        }
        double sigma = ((Number) c.get("init_noise_sigma")).doubleValue();
        assertThat((double) s.initNoiseSigma()).as(name + " init_noise_sigma").isCloseTo(sigma,
                org.assertj.core.api.Assertions.within(1e-5 * sigma));

        assertThat(DiffusersHarness.allFinite(out)).as(name + " finite").isTrue();
        int stride = ((Number) c.get("stride")).intValue();
        List<Number> values = (List<Number>) c.get("values");
        float[] a = out.array();
        double worst = 0;
        for (int k = 0; k < values.size(); k++) {
            double e = values.get(k).doubleValue();
            double err = Math.abs(a[k * stride] - e) / Math.max(1, Math.abs(e));
            worst = Math.max(worst, err);
            assertThat(err).as("%s element %d: %s vs diffusers %s", name, k * stride, a[k * stride], e)
                    .isLessThanOrEqualTo(1e-5);
        }
        double sum = ((Number) c.get("abs_sum")).doubleValue();
        double ourSum = DiffusersHarness.absSum(out);
        System.out.printf(java.util.Locale.ROOT, "ZERO-SNR %-22s abs sum %.6f (diffusers %.6f), worst element error "
                + "%.2e%n", name, ourSum, sum, worst);
        assertThat(Math.abs(ourSum - sum) / sum).as(name + " sum of magnitudes").isLessThanOrEqualTo(1e-6);
    }
}
