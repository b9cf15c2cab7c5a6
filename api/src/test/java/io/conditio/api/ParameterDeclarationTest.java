package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParameterDeclarationTest {
    private static final ParameterDeclaration RESCALE = ParameterDeclaration.builder("guidance_rescale",
            ParameterType.NUMBER).range(0, false, 1, true).description("phi").build();

    @Test
    void aNumberInAHalfOpenRangeNamesTheBound() {
        assertThat(RESCALE.check(0.7)).isEmpty();
        assertThat(RESCALE.check(1)).isEmpty();
        assertThat(RESCALE.check(0.0)).contains("'guidance_rescale' must be in (0, 1], got 0");
        assertThat(RESCALE.check(1.5)).contains("'guidance_rescale' must be in (0, 1], got 1.5");
        assertThat(RESCALE.check(Double.NaN)).get().asString().contains("finite number in (0, 1]");
        assertThat(RESCALE.check("0.7")).get().asString().contains("got text '0.7'");
        assertThat(RESCALE.typeText()).isEqualTo("number in (0, 1]");
    }

    @Test
    void integersAcceptIntegralValuesOnly() {
        ParameterDeclaration label = ParameterDeclaration.builder("class_label", ParameterType.INTEGER)
                .minimum(0, true).build();
        assertThat(label.check(3L)).isEmpty();
        assertThat(label.check(3)).isEmpty();
        assertThat(label.check(3.0)).isEmpty();
        assertThat(label.check(3.5)).get().asString().contains("must be an integer >= 0");
        assertThat(label.check(-1L)).contains("'class_label' must be >= 0, got -1");
    }

    @Test
    void enumsListTheirValues() {
        ParameterDeclaration mode = ParameterDeclaration.builder("mode", ParameterType.ENUM)
                .allowedValues("fast", "exact").build();
        assertThat(mode.check("fast")).isEmpty();
        assertThat(mode.check("slow")).contains("'mode' must be one of [fast, exact], got text 'slow'");
        assertThat(mode.typeText()).isEqualTo("enum fast|exact");
    }

    @Test
    void listsCheckTheirSizeAndEveryItem() {
        ParameterDeclaration size = ParameterDeclaration.builder("original_size", ParameterType.INTEGER)
                .list(2, 2).minimum(0, true).build();
        assertThat(size.check(List.of(1024L, 768L))).isEmpty();
        assertThat(size.check(List.of(1024L))).contains("'original_size' must have 2 items, got 1");
        assertThat(size.check(List.of(1024L, -1L))).contains("'original_size' item 1 must be >= 0, got -1");
        assertThat(size.check(1024L)).get().asString().contains("must be a list of integer");
        ParameterDeclaration lora = ParameterDeclaration.builder("lora", ParameterType.STRING).listOrSingle().build();
        assertThat(lora.check("a.safetensors:0.5")).isEmpty();
        assertThat(lora.check(List.of("a", "b"))).isEmpty();
        assertThat(lora.check(List.of("a", 3))).contains("'lora' item 1 must be text, got Integer 3");
    }

    @Test
    void groupsCheckFieldsRequiredFieldsAndSuggestNames() {
        ParameterDeclaration cn = ParameterDeclaration.builder("controlnets", ParameterType.GROUP).list()
                .field(ParameterDeclaration.builder("model", ParameterType.FILE).required().build())
                .field(ParameterDeclaration.builder("scale", ParameterType.NUMBER).build())
                .field(ParameterDeclaration.builder("end", ParameterType.NUMBER).range(0, 1).build())
                .build();
        assertThat(cn.check(List.of(Map.of("model", Path.of("cn"), "scale", 0.5)))).isEmpty();
        assertThat(cn.check(List.of(Map.of("scale", 0.5)))).contains(
                "'controlnets' item 0: field 'model' (file) is required");
        assertThat(cn.check(List.of(Map.of("model", "cn", "scael", 0.5)))).contains(
                "'controlnets' item 0: unknown field 'scael' (did you mean 'scale'?); the fields are [model, scale, end]");
        assertThat(cn.check(List.of(Map.of("model", "cn", "end", 2.0)))).contains(
                "'controlnets' item 0 field 'end' must be in [0, 1], got 2");
    }

    @Test
    void nearestSuggestsOnlyCloseNames() {
        List<String> known = List.of("guidance_rescale", "clip_skip", "strength");
        assertThat(ParameterDeclaration.nearest("guidance_rescal", known)).contains("guidance_rescale");
        assertThat(ParameterDeclaration.nearest("clipskip", known)).contains("clip_skip");
        assertThat(ParameterDeclaration.nearest("Strenght", known)).contains("strength");
        assertThat(ParameterDeclaration.nearest("note", known)).isEmpty();
    }

    @Test
    void builderRefusesInconsistentDeclarations() {
        assertThatThrownBy(() -> ParameterDeclaration.builder("x", ParameterType.STRING).range(0, 1))
                .hasMessageContaining("a range needs a number or integer");
        assertThatThrownBy(() -> ParameterDeclaration.builder("x", ParameterType.ENUM).build())
                .hasMessageContaining("needs allowed values");
        assertThatThrownBy(() -> ParameterDeclaration.builder("1x", ParameterType.STRING))
                .hasMessageContaining("parameter name");
    }
}
