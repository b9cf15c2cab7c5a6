package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.pf4j.Extension;

/** The providers as the host sees them: the PF4J index, class names, presets and their overrides. */
class SchedulerProvidersTest {

    static final SchedulerProvider PROVIDER = new BuiltInSchedulers();

    /** Stable Diffusion 1.5's scheduler/scheduler_config.json. */
    static final SchedulerConfig SD15 = config("_class_name", "PNDMScheduler", "beta_end", 0.012,
            "beta_schedule", "scaled_linear", "beta_start", 0.00085, "clip_sample", false, "num_train_timesteps", 1000,
            "set_alpha_to_one", false, "skip_prk_steps", true, "steps_offset", 1, "trained_betas", null);

    static Map<String, SchedulerPreset> presetsByName() {
        Map<String, SchedulerPreset> m = new LinkedHashMap<>();
        for (SchedulerPreset s : PROVIDER.presets()) {
            assertThat(m.put(s.name(), s)).as("preset %s named once", s.name()).isNull();
        }
        return m;
    }

    @Test
    void theProviderIsAPublicExtensionTheHostCanConstruct() throws IOException {
        // every jar and classes directory on the test class path may carry an index; ours is among them
        StringBuilder index = new StringBuilder();
        Enumeration<URL> indexes = getClass().getClassLoader().getResources("META-INF/extensions.idx");
        while (indexes.hasMoreElements()) {
            try (InputStream in = indexes.nextElement().openStream()) {
                index.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        Class<?> c = PROVIDER.getClass();
        assertThat(c.isAnnotationPresent(Extension.class)).as(c.getName()).isTrue();
        assertThat(Modifier.isPublic(c.getModifiers())).isTrue();
        assertThat(Stream.of(c.getConstructors()).anyMatch(k -> k.getParameterCount() == 0)).isTrue();
        assertThat(index.toString()).contains(c.getName());
    }

    @Test
    void classNamesCoverTheDiffusersSchedulersOnce() {
        assertThat(PROVIDER.classNames()).containsExactlyInAnyOrder(
                "DDIMScheduler", "PNDMScheduler", "LMSDiscreteScheduler", "EulerDiscreteScheduler",
                "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler", "DPMSolverMultistepScheduler",
                "DPMSolverSinglestepScheduler", "UniPCMultistepScheduler", "DEISMultistepScheduler", "DDPMScheduler",
                "LCMScheduler", "TCDScheduler", "KDPM2DiscreteScheduler", "KDPM2AncestralDiscreteScheduler",
                "FlowMatchEulerDiscreteScheduler");
    }

    @Test
    void presetNamesAreTheCliNames() {
        assertThat(presetsByName().keySet()).contains("ddim", "pndm", "lms", "euler", "euler-a", "heun", "dpm++2m",
                "dpm++2m-karras", "dpm++2m-sde", "dpm++2s", "unipc", "deis", "ddpm", "lcm", "tcd", "kdpm2", "kdpm2-a",
                "flow-euler");
        assertThat(presetsByName().keySet()).allMatch(n -> n.equals(n.toLowerCase()));
        assertThat(presetsByName().values()).allMatch(p -> !p.description().isBlank());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"ddim, DDIMScheduler", "pndm, PNDMScheduler", "lms, LMSDiscreteScheduler",
        "euler, EulerDiscreteScheduler", "euler-a, EulerAncestralDiscreteScheduler", "heun, HeunDiscreteScheduler",
        "dpm++2m, DPMSolverMultistepScheduler", "dpm++2m-karras, DPMSolverMultistepScheduler",
        "dpm++2m-sde, DPMSolverMultistepScheduler", "dpm++2s, DPMSolverSinglestepScheduler",
        "unipc, UniPCMultistepScheduler", "deis, DEISMultistepScheduler", "ddpm, DDPMScheduler",
        "lcm, LCMScheduler", "tcd, TCDScheduler", "kdpm2, KDPM2DiscreteScheduler",
        "kdpm2-a, KDPM2AncestralDiscreteScheduler", "flow-euler, FlowMatchEulerDiscreteScheduler"})
    void presetResolvesToItsClassAndKeepsTheModelFoldersSchedule(String preset, String className) {
        assertThat(presetsByName().get(preset).className(PROVIDER)).isEqualTo(className);
        SchedulerConfig c = SD15.with(presetsByName().get(preset).overrides());
        Scheduler s = PROVIDER.create(c);
        assertThat(s.config().className()).isEqualTo(className);
        if (!className.startsWith("FlowMatch")) {
            assertThat(s.config().asMap()).containsEntry("beta_schedule", "scaled_linear")
                    .containsEntry("beta_start", 0.00085);
        }
    }

    @Test
    void dpmPresetsSetWhatTheirNamesSay() {
        Map<String, SchedulerPreset> presets = presetsByName();
        assertThat(presets.get("dpm++2m").overrides()).containsEntry("algorithm_type", "dpmsolver++")
                .containsEntry("solver_order", 2).containsEntry("use_karras_sigmas", false)
                .doesNotContainKeys("beta_schedule", "beta_start", "beta_end", "prediction_type")
                .containsEntry("_class_name", "DPMSolverMultistepScheduler");
        assertThat(presets.get("dpm++2m-karras").overrides()).containsEntry("use_karras_sigmas", true)
                .containsEntry("solver_order", 2);
        assertThat(presets.get("dpm++2m-sde").overrides()).containsEntry("algorithm_type", "sde-dpmsolver++")
                .containsEntry("solver_order", 2);
        assertThat(presets.get("dpm++2s").overrides()).containsEntry("algorithm_type", "dpmsolver++")
                .containsEntry("solver_order", 2);
        assertThat(presets.get("dpm++2s").description()).contains("DPM-Solver++(2S)");
    }

    @Test
    void aClassTheProviderDoesNotHaveIsRefusedWithTheListOfItsClasses() {
        assertThatThrownBy(() -> PROVIDER.create(SD15.with(Map.of("_class_name", "NoSuchScheduler"))))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("NoSuchScheduler")
                .hasMessageContaining("EulerDiscreteScheduler");
    }

    @Test
    void presetOverridesWinOverTheModelFolder() {
        SchedulerConfig folder = SD15.with(Map.of("_class_name", "DPMSolverMultistepScheduler",
                "algorithm_type", "dpmsolver", "use_karras_sigmas", false, "final_sigmas_type", "sigma_min"));
        Scheduler s = PROVIDER.create(folder.with(presetsByName().get("dpm++2m-karras").overrides()));
        assertThat(s.config().asMap()).containsEntry("algorithm_type", "dpmsolver++")
                .containsEntry("use_karras_sigmas", true).containsEntry("steps_offset", 1);
    }
}
