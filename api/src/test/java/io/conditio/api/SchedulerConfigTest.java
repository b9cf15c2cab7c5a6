package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchedulerConfigTest {

    @Test
    void absentAndNullKeysTakeTheDefault() {
        Map<String, Object> m = new HashMap<>();
        m.put("trained_betas", null);
        SchedulerConfig c = SchedulerConfig.of(m);
        assertThat(c.getDoubleArray("trained_betas")).isNull();
        assertThat(c.getInt("num_train_timesteps", 1000)).isEqualTo(1000);
        assertThat(c.has("trained_betas")).isFalse();
    }

    @Test
    void typedGettersReadJsonValues() {
        SchedulerConfig c = SchedulerConfig.of(Map.of("beta_start", 0.00085, "steps_offset", 1L,
                "clip_sample", false, "beta_schedule", "scaled_linear", "trained_betas", List.of(0.1, 0.2)));
        assertThat(c.getDouble("beta_start", 0)).isEqualTo(0.00085);
        assertThat(c.getInt("steps_offset", 0)).isEqualTo(1);
        assertThat(c.getBoolean("clip_sample", true)).isFalse();
        assertThat(c.getDoubleArray("trained_betas")).containsExactly(0.1, 0.2);
    }

    @Test
    void anUnsupportedChoiceNamesTheKeyTheValueAndTheAllowedValues() {
        SchedulerConfig c = SchedulerConfig.of(Map.of("_class_name", "DDIMScheduler", "timestep_spacing", "odd"));
        assertThatThrownBy(() -> c.getChoice("timestep_spacing", "leading", "leading", "linspace", "trailing"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'timestep_spacing'").hasMessageContaining("'odd'")
                .hasMessageContaining("DDIMScheduler").hasMessageContaining("leading, linspace, trailing");
    }

    @Test
    void aWrongJsonTypeNamesTheKeyAndTheExpectedType() {
        SchedulerConfig c = SchedulerConfig.of(Map.of("steps_offset", "one"));
        assertThatThrownBy(() -> c.getInt("steps_offset", 0))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'steps_offset'").hasMessageContaining("an integer");
    }

    @Test
    void withAppliesOverridesAndRemovesNullKeys() {
        SchedulerConfig c = SchedulerConfig.of(Map.of("a", 1L, "b", 2L));
        Map<String, Object> over = new HashMap<>();
        over.put("a", 5L);
        over.put("b", null);
        SchedulerConfig d = c.with(over);
        assertThat(d.asMap()).containsExactly(Map.entry("a", 5L));
        assertThat(c.asMap()).containsEntry("b", 2L);
    }
}
