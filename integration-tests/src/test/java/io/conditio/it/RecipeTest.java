package io.conditio.it;

import static io.conditio.it.CliRun.conditio;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.parameters.ParameterCatalog;
import io.conditio.core.recipe.Recipe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Recipes: the format, its validation against the plugins' declarations, and {@code generate --recipe}. */
@ExtendWith(ConditioExtension.class)
class RecipeTest {
    @Fixture
    private static Conditio conditio;
    private static ParameterCatalog catalog;

    @TempDir
    Path dir;

    @BeforeAll
    static void readTheCatalog() {
        catalog = conditio.parameters();
    }

    static Path recipes() {
        return ShapesModelTest.modelDir().getParent().getParent().resolve("docs/recipes");
    }

    static Stream<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(recipes())) {
            List<Path> list = files.filter(f -> f.toString().matches(".*\\.(json|yaml|yml)$")).sorted().toList();
            assertThat(list).hasSizeGreaterThanOrEqualTo(5);
            return list.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("examples")
    void everyShippedExampleParsesValidatesAndRunsWithFlagsOverridingIt(Path example) {
        Recipe recipe = Recipe.read(example);
        GenerationRequest request = recipe.toRequest(catalog);
        assertThat(recipe.model()).contains(ShapesModelTest.modelDir().toAbsolutePath().normalize());
        assertThat(request.prompt()).isNotEmpty();

        Path png = dir.resolve("out.png");
        CliRun run = conditio("generate", "--recipe", example.toString(), "--steps", "3", "--out", png.toString(),
                "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(run.code()).as(run.err()).isZero();
        Map<String, String> text = PngImages.readText(png);
        assertThat(text).containsEntry("steps", "3").containsEntry("prompt", recipe.prompt().orElseThrow())
                .containsEntry("seed", recipe.seed().orElseThrow().toString());
        recipe.scheduler().ifPresent(s -> assertThat(text).containsEntry("scheduler", s));
        recipe.parameters().keySet().forEach(k -> assertThat(text).containsKey("parameter." + k));
    }

    @Test
    void yamlAndJsonOfOneRecipeAreTheSameRequestAndTheSamePixels() throws IOException {
        Files.writeString(dir.resolve("a.json"), "{\"model\": \"" + ShapesModelTest.modelDir().toAbsolutePath()
                + "\", \"prompt\": \"a yellow cross\", \"seed\": 2, \"steps\": 4, \"scheduler\": \"ddim\", "
                + "\"parameters\": {\"class_label\": 3}}");
        Files.writeString(dir.resolve("a.yaml"), "model: " + ShapesModelTest.modelDir().toAbsolutePath()
                + "\nprompt: a yellow cross\nseed: 2\nsteps: 4\nscheduler: ddim\nparameters:\n  class_label: 3\n");
        CliRun json = conditio("generate", "--recipe", dir.resolve("a.json").toString(), "--out",
                dir.resolve("json.png").toString(), "--plugins", TinyFixtures.pluginDir().toString());
        CliRun yaml = conditio("generate", "--recipe", dir.resolve("a.yaml").toString(), "--out",
                dir.resolve("yaml.png").toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(json.code()).as(json.err()).isZero();
        assertThat(yaml.code()).as(yaml.err()).isZero();
        assertThat(PngImages.read(dir.resolve("yaml.png")).pixels())
                .containsExactly(PngImages.read(dir.resolve("json.png")).pixels());
        assertThat(PngImages.readText(dir.resolve("yaml.png"))).containsEntry("parameter.class_label", "3");
    }

    @Test
    void anUnknownFieldOrParameterIsRefusedWithTheNearestName() throws IOException {
        assertThatThrownBy(() -> Recipe.parse("{\"prompt\": \"x\", \"sede\": 3}", dir))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("unknown field 'sede' (did you mean 'seed'?)");
        Recipe r = Recipe.parse("{\"prompt\": \"x\", \"parameters\": {\"class_lable\": 3}}", dir);
        assertThatThrownBy(() -> r.toRequest(catalog))
                .hasMessageContaining("unknown recipe parameter 'class_lable' (did you mean 'class_label'?)")
                .hasMessageContaining("the known parameters are: ").hasMessageContaining("controlnets");
        assertThatThrownBy(() -> Recipe.parse("{\"steps\": 2.5}", dir).toRequest(catalog))
                .hasMessageContaining("'steps' must be an integer");
        assertThatThrownBy(() -> Recipe.parse("{\"parameters\": {\"strength\": 3}}", dir).toRequest(catalog))
                .hasMessageContaining("'strength' must be in (0, 1], got 3");

        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"prompt\": \"x\", \"parameters\": {\"class_lable\": 3}}");
        CliRun run = conditio("generate", "--recipe", bad.toString(), "--model", ShapesModelTest.modelDir().toString(),
                "--out", dir.resolve("o.png").toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("did you mean 'class_label'?");
        assertThat(Files.exists(dir.resolve("o.png"))).isFalse();
    }

    @Test
    void imagePathsAreRelativeToTheRecipeAndDataUrisWork() throws IOException {
        Path examples = recipes().getParent().resolve("examples");
        Path sub = Files.createDirectories(dir.resolve("sub"));
        Files.copy(examples.resolve("inpaint-init.png"), sub.resolve("init.png"));
        String uri = "data:image/png;base64," + Base64.getEncoder().encodeToString(
                Files.readAllBytes(examples.resolve("inpaint-mask-bottom-right.png")));
        Files.writeString(sub.resolve("r.json"), "{\"prompt\": \"a green square\", \"parameters\": "
                + "{\"init_image\": \"init.png\", \"mask_image\": \"" + uri + "\", \"strength\": 0.9}}");
        GenerationRequest request = Recipe.read(sub.resolve("r.json")).toRequest(catalog);
        RgbImage init = (RgbImage) request.parameters().get("init_image");
        RgbImage mask = (RgbImage) request.parameters().get("mask_image");
        assertThat(init.pixels()).containsExactly(PngImages.read(examples.resolve("inpaint-init.png")).pixels());
        assertThat(mask.pixels()).containsExactly(
                PngImages.read(examples.resolve("inpaint-mask-bottom-right.png")).pixels());
        assertThat(request.parameters()).containsEntry("source.init_image", "init.png")
                .containsEntry("strength", 0.9).doesNotContainKey("source.mask_image");
    }

    @Test
    void settingsByNameEditARecipeAsAGridDoes() {
        Recipe r = Recipe.parse("{\"prompt\": \"x\", \"seed\": 1}", dir)
                .withSetting("seed", "5", catalog).withSetting("scheduler", "ddim", catalog)
                .withSetting("class_label", "2", catalog);
        assertThat(r.seed()).contains(5L);
        assertThat(r.scheduler()).contains("ddim");
        assertThat(r.parameters()).containsEntry("class_label", 2L);
        assertThatThrownBy(() -> r.withSetting("sheduler", "x", catalog))
                .hasMessageContaining("unknown setting 'sheduler' (did you mean 'scheduler'?)");
        assertThat(Recipe.parse(r.toJson(), dir).toJson()).isEqualTo(r.toJson());
    }
}
