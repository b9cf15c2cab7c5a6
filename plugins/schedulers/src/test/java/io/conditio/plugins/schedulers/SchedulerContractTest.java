package io.conditio.plugins.schedulers;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The contract the core relies on, checked for every preset on Stable Diffusion 1.5's scheduler config. */
class SchedulerContractTest {

    static Stream<Arguments> presets() {
        return SchedulerProvidersTest.presetsByName().values().stream().map(p -> Arguments.of(p.name(), p));
    }

    private static Scheduler create(SchedulerPreset preset, Map<String, ?> extra) {
        SchedulerConfig c = SchedulerProvidersTest.SD15.with(preset.overrides()).with(extra);
        return SchedulerProvidersTest.PROVIDER.create(c);
    }

    /** Runs the core's loop with a guidance-sized batch and an epsilon-like dummy model. */
    private static FloatTensor run(Scheduler s, int steps, CountingRandom random) {
        s.setTimesteps(steps);
        FloatTensor latents = random.randn(2, 4, 4, 4).mul(s.initNoiseSigma());
        for (float t : s.timesteps()) {
            FloatTensor in = s.scaleModelInput(latents, t);
            FloatTensor eps = in.mul(0.5f);
            float[] inBefore = latents.array().clone();
            float[] epsBefore = eps.array().clone();
            FloatTensor next = s.step(eps, t, latents, random);
            assertThat(next).isNotSameAs(latents).isNotSameAs(eps);
            assertThat(latents.array()).as("sample untouched").containsExactly(inBefore);
            assertThat(eps.array()).as("model output untouched").containsExactly(epsBefore);
            assertThat(next.shape()).containsExactly(2, 4, 4, 4);
            latents = next;
        }
        return latents;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("presets")
    void stepReturnsANewFiniteTensorAndLeavesItsInputsAlone(String name, SchedulerPreset preset) {
        Scheduler s = create(preset, Map.of());
        FloatTensor out = run(s, 8, new CountingRandom());
        assertThat(DiffusersHarness.allFinite(out)).as(name).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("presets")
    void timestepsAreAFreshCopyWithOneEntryPerModelCall(String name, SchedulerPreset preset) {
        Scheduler s = create(preset, Map.of());
        s.setTimesteps(6);
        float[] t = s.timesteps();
        t[0] = -42f;
        assertThat(s.timesteps()[0]).isNotEqualTo(-42f);
        // second order: every interior timestep twice; PLMS without PRK warm-up (SD 1.5) repeats one to start
        int expected = s.order() == 2 ? 2 * 6 - 1 : s instanceof PndmScheduler ? 6 + 1 : 6;
        assertThat(s.timesteps()).as("%s, order %d", name, s.order()).hasSize(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("presets")
    void configIsTheEffectiveConfigWithTheClassName(String name, SchedulerPreset preset) {
        Scheduler s = create(preset, Map.of("some_future_key", "ignored"));
        assertThat(s.config().className()).isEqualTo(preset.className(SchedulerProvidersTest.PROVIDER));
        assertThat(s.config().asMap()).containsEntry("some_future_key", "ignored")
                .containsKey("num_train_timesteps");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("presets")
    void img2imgStartPartWayThroughTheScheduleViaTheBeginIndex(String name, SchedulerPreset preset) {
        Scheduler s = create(preset, Map.of());
        s.setTimesteps(10);
        float[] ts = s.timesteps();
        int begin = 4 * s.order();
        s.setBeginIndex(begin);
        CountingRandom random = new CountingRandom();
        FloatTensor init = DiffusersHarness.sampleDeter();
        FloatTensor latents = s.addNoise(init, random.randn(4, 3, 8, 8), ts[begin]);
        for (int i = begin; i < ts.length; i++) {
            FloatTensor in = s.scaleModelInput(latents, ts[i]);
            latents = s.step(in.mul(0.5f), ts[i], latents, random);
        }
        assertThat(DiffusersHarness.allFinite(latents)).as(name).isTrue();
    }
}
