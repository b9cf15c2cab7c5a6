package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    @Test
    void typedGettersReadOnlyValuesOfTheirType() {
        Map<String, Object> m = new HashMap<>();
        m.put("num_class_embeds", 10L);
        m.put("scaling_factor", 0.18215);
        m.put("class_embed_type", null);
        m.put("act_fn", "silu");
        m.put("block_out_channels", List.of(16L, 32L, 32L));
        m.put("global_pool_conditions", true);
        ModelConfig c = ModelConfig.of(m, Path.of("unet/config.json"));
        assertThat(c.integer("num_class_embeds")).hasValue(10L);
        assertThat(c.integer("scaling_factor")).isEmpty();
        assertThat(c.number("scaling_factor")).hasValue(0.18215);
        assertThat(c.string("class_embed_type")).isEmpty();
        assertThat(c.string("act_fn")).contains("silu");
        assertThat(c.integers("block_out_channels")).contains(List.of(16, 32, 32));
        assertThat(c.integers("act_fn")).isEmpty();
        assertThat(c.flag("global_pool_conditions")).isTrue();
        assertThat(c.flag("missing")).isFalse();
        assertThat(c.source()).contains(Path.of("unet/config.json"));
    }

    @Test
    void theEmptyConfigHasNothing() {
        assertThat(ModelConfig.empty().asMap()).isEmpty();
        assertThat(ModelConfig.empty().source()).isEmpty();
        assertThat(ModelConfig.empty().integer("x")).isEmpty();
    }
}
