package io.conditio.core.parameters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.core.json.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParameterCatalogTest {
    private static final ParameterDeclaration RESCALE = ParameterDeclaration.builder("guidance_rescale",
            ParameterType.NUMBER).range(0, false, 1, true).description("phi").build();

    private static ParameterCatalog catalog() {
        return ParameterCatalog.builder().add(ParameterCatalog.HOST, ParameterCatalog.hostParameters())
                .add("guidance cfg-rescale (cfg-rescale@1.0.0)", List.of(RESCALE)).build();
    }

    @Test
    void anUnknownKeyListsTheKnownOnesAndSuggestsTheNearest() {
        assertThatThrownBy(() -> catalog().validate(Map.of("guidance_rescal", 0.7)))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("unknown request parameter 'guidance_rescal' (did you mean 'guidance_rescale'?); the "
                        + "known parameters are: guidance_rescale, init_image, mask_blend, mask_image, strength");
    }

    @Test
    void everyProblemIsReportedAtOnceAndAnnotationsPass() {
        assertThatThrownBy(() -> catalog().validate(Map.of("strength", 1.5, "guidance_rescale", "high",
                "source.init_image", "x.png")))
                .hasMessageContaining("'strength' must be in (0, 1], got 1.5")
                .hasMessageContaining("'guidance_rescale' must be a finite number in (0, 1], got text 'high'");
        assertThat(catalog().validate(Map.of("strength", 0.5, "source.init_image", "x.png"))).isEmpty();
    }

    @Test
    void undeclaredPluginsLetUnknownKeysPassWithAWarningButDeclaredKeysAreStillChecked() {
        ParameterCatalog c = ParameterCatalog.builder().add(ParameterCatalog.HOST, ParameterCatalog.hostParameters())
                .addUndeclared("conditioner old (old@1.0.0)").build();
        assertThat(c.validate(Map.of("anything", 1L))).singleElement().asString()
                .contains("'anything' is declared by no plugin").contains("conditioner old (old@1.0.0)");
        assertThatThrownBy(() -> c.validate(Map.of("strength", 2.0))).hasMessageContaining("(0, 1]");
        assertThat(c.jsonSchema()).containsEntry("additionalProperties", true);
    }

    @Test
    void twoPluginsDeclaringAKeyAlikeShareItAndUnlikeIsAConflict() {
        ParameterDeclaration other = ParameterDeclaration.builder("guidance_rescale", ParameterType.STRING).build();
        ParameterCatalog c = ParameterCatalog.builder().add("a", List.of(RESCALE)).add("b", List.of(RESCALE))
                .add("c", List.of(other)).build();
        assertThat(c.entries().get("guidance_rescale").owners()).containsExactly("a", "b", "c");
        assertThat(c.conflicts()).singleElement().asString().contains("number in (0, 1] by a, b but as string by c");
    }

    @Test
    void theJsonSchemaCarriesTypesBoundsGroupsAndOwners() {
        ParameterDeclaration cn = ParameterDeclaration.builder("controlnets", ParameterType.GROUP).list()
                .field(ParameterDeclaration.builder("model", ParameterType.FILE).required().build())
                .field(ParameterDeclaration.builder("scale", ParameterType.NUMBER).defaultValue(1.0).build())
                .build();
        ParameterCatalog c = ParameterCatalog.builder().add("x", List.of(RESCALE, cn)).build();
        @SuppressWarnings("unchecked")
        Map<String, Object> schema = (Map<String, Object>) Json.parse(Json.write(c.recipeJsonSchema()));
        assertThat(schema).containsEntry("additionalProperties", false);
        String text = Json.write(schema);
        assertThat(text).contains("\"guidance_rescale\":{\"type\":\"number\",\"exclusiveMinimum\":0.0,"
                + "\"maximum\":1.0,\"description\":\"phi\"");
        assertThat(text).contains("\"controlnets\":{\"type\":\"array\",\"items\":{\"type\":\"object\"")
                .contains("\"required\":[\"model\"]").contains("\"x-conditio-owners\":[\"x\"]");
    }

    @Test
    void textAndJsonValuesAreTypedByTheDeclaration() {
        Path base = Path.of("/tmp/recipes");
        ParameterDeclaration size = ParameterDeclaration.builder("original_size", ParameterType.INTEGER)
                .list(2, 2).build();
        assertThat(ParameterValues.fromText(RESCALE, "0.7", base)).isEqualTo(0.7);
        assertThat(ParameterValues.fromText(size, "1024, 768", base)).isEqualTo(List.of(1024L, 768L));
        assertThat(ParameterValues.fromJson(size, List.of(1024, 768.0), base)).isEqualTo(List.of(1024L, 768L));
        ParameterDeclaration file = ParameterDeclaration.builder("model", ParameterType.FILE).build();
        assertThat(ParameterValues.fromJson(file, "cn/model.onnx", base)).isEqualTo(Path.of("/tmp/recipes/cn/model.onnx"));
        assertThatThrownBy(() -> ParameterValues.fromText(RESCALE, "lots", base))
                .hasMessageContaining("parameter 'guidance_rescale' must be a finite number (number in (0, 1])");
        ParameterDeclaration flag = ParameterDeclaration.builder("mask_blend", ParameterType.BOOLEAN).build();
        assertThatThrownBy(() -> ParameterValues.fromText(flag, "yes", base)).hasMessageContaining("true or false");
    }
}
