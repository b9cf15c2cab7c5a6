package io.conditio.plugins.film;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.InvalidRequestException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** diffusers' {@code _get_add_time_ids}: original_size + crops_coords_top_left + target_size. */
class SizeConditionsTest {

    @Test
    void defaultsAreTheGenerationSizeAndNoCrop() {
        assertThat(SizeConditions.timeIds(Map.of(), 64, 96)).containsExactly(64, 96, 0, 0, 64, 96);
    }

    @Test
    void givenValuesKeepDiffusersOrder() {
        Map<String, Object> p = Map.of("original_size", List.of(1024, 768), "crops_coords_top_left", List.of(10L, 20),
                "target_size", List.of(512.0, 640));
        assertThat(SizeConditions.timeIds(p, 64, 64)).containsExactly(1024, 768, 10, 20, 512, 640);
    }

    @Test
    void refinerFormEndsWithTheAestheticScore() {
        assertThat(SizeConditions.refinerTimeIds(Map.of(), 64, 32, false)).containsExactly(64, 32, 0, 0, 6f);
        assertThat(SizeConditions.refinerTimeIds(Map.of(), 64, 32, true)).containsExactly(64, 32, 0, 0, 2.5f);
        assertThat(SizeConditions.refinerTimeIds(Map.of("aesthetic_score", 7), 64, 32, false))
                .containsExactly(64, 32, 0, 0, 7f);
    }

    @Test
    void aMalformedSizeNamesTheKeyAndFlag() {
        assertThatThrownBy(() -> SizeConditions.timeIds(Map.of("original_size", List.of(1024)), 64, 64))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("original_size")
                .hasMessageContaining("--original-size");
        assertThatThrownBy(() -> SizeConditions.timeIds(Map.of("target_size", "512x512"), 64, 64))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("target_size");
    }
}
