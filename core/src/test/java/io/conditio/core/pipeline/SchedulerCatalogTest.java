package io.conditio.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SchedulerCatalogTest {

    /** A provider that only names itself; resolution never creates schedulers. */
    private record Named(String className, List<SchedulerPreset> presets) implements SchedulerProvider {
        @Override
        public List<String> classNames() {
            return List.of(className);
        }

        @Override
        public Scheduler create(SchedulerConfig config) {
            throw new UnsupportedOperationException();
        }
    }

    private final SchedulerCatalog catalog = new SchedulerCatalog(List.of(
            new Named("EulerDiscreteScheduler", List.of(new SchedulerPreset("euler", Map.of(), "Euler"))),
            new Named("DPMSolverMultistepScheduler", List.of(
                    new SchedulerPreset("dpm++2m", Map.of("algorithm_type", "dpmsolver++"), "DPM++ 2M"),
                    new SchedulerPreset("dpm++2m-karras",
                            Map.of("algorithm_type", "dpmsolver++", "use_karras_sigmas", true), "Karras")))));

    private final Optional<SchedulerConfig> folder = Optional.of(SchedulerConfig.of(Map.of(
            "_class_name", "PNDMScheduler", "beta_schedule", "scaled_linear", "steps_offset", 1L)));

    @Test
    void aPresetInheritsTheFolderConfigAndAppliesItsOverrides() {
        SchedulerCatalog.Choice c = catalog.resolve(folder, Optional.of("DPM++2M-Karras"), Optional.empty());
        assertThat(c.provider().classNames()).containsExactly("DPMSolverMultistepScheduler");
        assertThat(c.config().asMap()).containsEntry("_class_name", "DPMSolverMultistepScheduler")
                .containsEntry("beta_schedule", "scaled_linear").containsEntry("steps_offset", 1L)
                .containsEntry("use_karras_sigmas", true);
        assertThat(c.name()).isEqualTo("dpm++2m-karras");
    }

    @Test
    void noSchedulerChosenSaysWhetherTheFolderConfigIsMissingOrLacksItsClassName() {
        assertThatThrownBy(() -> catalog.resolve(Optional.empty(), Optional.empty(), Optional.empty()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("the model folder has no scheduler/scheduler_config.json")
                .hasMessageContaining("--scheduler NAME (dpm++2m, dpm++2m-karras, euler)");
        assertThatThrownBy(() -> catalog.resolve(Optional.of(SchedulerConfig.of(Map.of("beta_start", 0.001))),
                Optional.empty(), Optional.empty()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("scheduler/scheduler_config.json has no _class_name");
    }

    @Test
    void aClassNameSelectsTheProviderDirectly() {
        SchedulerCatalog.Choice c = catalog.resolve(folder, Optional.of("EulerDiscreteScheduler"), Optional.empty());
        assertThat(c.config().className()).isEqualTo("EulerDiscreteScheduler");
    }

    @Test
    void requestConfigKeysGoOnTopOfTheFolderAndTheirClassNamePicks() {
        SchedulerCatalog.Choice c = catalog.resolve(folder, Optional.empty(),
                Optional.of(Map.of("_class_name", "EulerDiscreteScheduler", "timestep_spacing", "trailing")));
        assertThat(c.config().asMap()).containsEntry("_class_name", "EulerDiscreteScheduler")
                .containsEntry("timestep_spacing", "trailing").containsEntry("beta_schedule", "scaled_linear");
    }

    @Test
    void theFolderClassMustBeProvided() {
        assertThatThrownBy(() -> catalog.resolve(folder, Optional.empty(), Optional.empty()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PNDMScheduler").hasMessageContaining("EulerDiscreteScheduler");
    }

    @Test
    void withoutAnyConfigOrNameTheErrorSaysWhatToPass() {
        assertThatThrownBy(() -> catalog.resolve(Optional.empty(), Optional.empty(), Optional.empty()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("--scheduler").hasMessageContaining("dpm++2m, dpm++2m-karras, euler");
    }

}
