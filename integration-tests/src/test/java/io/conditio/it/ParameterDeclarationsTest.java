package io.conditio.it;

import static io.conditio.it.CliRun.conditio;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.core.image.PngImages;
import io.conditio.core.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Typed parameter declarations through the conditio command and real plugin jars: the built-in plugins' declarations,
 * validation of {@code --param} before anything runs, the listing and JSON Schema, a third-party plugin built against
 * SPI 0.2.0 that declares its parameter, and one built against 0.1.0 that declares nothing and still loads.
 */
class ParameterDeclarationsTest {
    @TempDir
    Path dir;

    private static String model() {
        return TinyFixtures.model("sd-tiny").toString();
    }

    /** A guidance provider as a plugin author writes it; {@code declares} adds its parameters() override. */
    private static String annealSource(boolean declares) {
        return PluginSources.guidanceProvider("Anneal", "anneal", (declares ? """
                    @Override
                    public List<ParameterDeclaration> parameters() {
                        return List.of(ParameterDeclaration.builder("anneal_to", ParameterType.NUMBER)
                                .range(0, 20).description("guidance scale at the last step").build());
                    }
                """ : "") + """
                    public Optional<Guidance> create(GenerationRequest request, Model unet) {
                        Object to = request.parameters().get("anneal_to");
                        if (to == null) {
                            return Optional.empty();
                        }
                        return Optional.of(new SingleBranchGuidance("anneal to " + to + " ("
                                + to.getClass().getSimpleName() + ")"));
                    }
                """);
    }

    /** The built-in plugin jars plus one third-party jar, in one folder. */
    private Path pluginsWith(String pluginId, String requires, boolean declares) throws IOException {
        Path built = PluginJars.build(dir.resolve("build-" + pluginId), pluginId, requires,
                Map.of("example.Anneal", annealSource(declares)), List.of("example.Anneal"));
        Path plugins = Files.createDirectories(dir.resolve("plugins-" + pluginId));
        try (Stream<Path> jars = Stream.concat(Files.list(TinyFixtures.pluginDir()), Files.list(built))) {
            for (Path jar : (Iterable<Path>) jars.filter(p -> p.toString().endsWith(".jar"))::iterator) {
                Files.copy(jar, plugins.resolve(jar.getFileName()));
            }
        }
        return plugins;
    }

    private CliRun generate(Path plugins, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", model(), "--prompt",
                "a red circle", "--steps", "2", "--seed", "1", "--out", dir.resolve("out.png").toString(),
                "--plugins", plugins.toString()));
        args.addAll(List.of(more));
        return conditio(args.toArray(String[]::new));
    }

    @Test
    void anUnknownParamKeyIsAnErrorListingTheKnownKeysWithTheNearestOne() {
        CliRun run = generate(TinyFixtures.pluginDir(), "--param", "clip_skp=1");
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("unknown --param 'clip_skp' (did you mean 'clip_skip'?)")
                .contains("the known parameters are: ").contains("class_label").contains("controlnets")
                .contains("init_image").contains("lora").contains("strength").contains("t2i_adapters")
                .doesNotContain("\tat ");
        assertThat(run.err().strip()).doesNotContain("\n");
        assertThat(Files.exists(dir.resolve("out.png"))).isFalse();
    }

    @Test
    void aValueOutOfRangeOrOfTheWrongTypeNamesTheBoundBeforeAnythingRuns() {
        CliRun range = generate(TinyFixtures.pluginDir(), "--param", "strength=1.5");
        assertThat(range.code()).isEqualTo(1);
        assertThat(range.err()).contains("'strength' must be in (0, 1], got 1.5");
        CliRun type = generate(TinyFixtures.pluginDir(), "--param", "clip_skip=two");
        assertThat(type.code()).isEqualTo(1);
        assertThat(type.err()).contains("parameter 'clip_skip' must be an integer (integer >= 0), got 'two'");
        CliRun negative = generate(TinyFixtures.pluginDir(), "--class-label", "-3");
        assertThat(negative.code()).isEqualTo(1);
        assertThat(negative.err()).contains("'class_label' must be >= 0, got -3");
        CliRun group = generate(TinyFixtures.pluginDir(), "--param",
                "controlnets=[{\"model\": \"cn\", \"scael\": 2}]");
        assertThat(group.code()).isEqualTo(1);
        assertThat(group.err()).contains("'controlnets' item 0: unknown field 'scael' (did you mean 'scale'?)");
        assertThat(Files.exists(dir.resolve("out.png"))).isFalse();
    }

    @Test
    void paramValuesAreTypedByTheirDeclaration() {
        CliRun run = generate(TinyFixtures.pluginDir(), "--param", "prompt_weighting=false",
                "--param", "clip_skip=0");
        assertThat(run.code()).as(run.err()).isZero();
        // a Boolean reached the text plugin (a String would have been refused with a type error)
        assertThat(PngImages.readText(dir.resolve("out.png"))).containsEntry("text.prompt_weighting", "false")
                .containsEntry("parameter.clip_skip", "0");
    }

    @Test
    void pluginsParametersListsEveryBuiltInDeclarationWithItsOwner() {
        CliRun run = conditio("plugins", "--parameters", "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out())
                .containsPattern("strength +number in \\(0, 1\\]  default 0.8 — img2img")
                .contains("declared by host")
                .containsPattern("init_image +image")
                .contains("conditioner inpaint (concat-conditioning@0.1.0)")
                .containsPattern("class_label +integer >= 0")
                .contains("declared by conditioner film (film-conditioning@0.1.0)")
                .containsPattern("original_size +list of 2 integer >= 0")
                .containsPattern("controlnets +list of group")
                .containsPattern("        preprocess +string  default none")
                .containsPattern("        model +file  required")
                .containsPattern("t2i_adapters +list of group")
                .containsPattern("        factor +number in \\[0, 1\\]")
                .containsPattern("lora +one or a list of string")
                .contains("weight patcher lora (lora@0.1.0)")
                .containsPattern("image_guidance_scale +number >= 0  default 1.5")
                .containsPattern("clip_skip +integer >= 0")
                .containsPattern("prompt_embeds +tensor")
                .doesNotContain("built against SPI 0.1.0");
    }

    @Test
    void theJsonSchemaDescribesARecipeWithTheDeclaredParameters() {
        CliRun run = conditio("plugins", "--json-schema", "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(run.code()).as(run.err()).isZero();
        @SuppressWarnings("unchecked")
        Map<String, Object> schema = (Map<String, Object>) Json.parse(run.out());
        assertThat(schema).containsEntry("$schema", "https://json-schema.org/draft/2020-12/schema");
        @SuppressWarnings("unchecked")
        Map<String, Object> props = (Map<String, Object>) schema.get("properties");
        assertThat(props).containsKeys("prompt", "seed", "steps", "scheduler", "scheduler_config", "parameters");
        @SuppressWarnings("unchecked")
        Map<String, Object> parameters = (Map<String, Object>) ((Map<String, Object>) props.get("parameters"))
                .get("properties");
        assertThat(parameters).containsKeys("strength", "class_label", "controlnets", "t2i_adapters", "lora");
        assertThat(parameters.get("strength")).asString().contains("exclusiveMinimum=0.0").contains("maximum=1.0");
        assertThat(((Map<?, ?>) props.get("parameters")).get("additionalProperties")).isEqualTo(false);
    }

    @Test
    void aPluginBuiltAgainstTheNewSpiDeclaresItsParameterAndIsValidated() throws IOException {
        Path plugins = pluginsWith("anneal", ">=0.2.0 & <1.0.0", true);
        CliRun ok = generate(plugins, "--param", "anneal_to=3");
        assertThat(ok.code()).as(ok.err()).isZero();
        // typed as the declaration says: a Double, not the Long that "3" would have been without it
        assertThat(PngImages.readText(dir.resolve("out.png"))).containsEntry("guidance", "anneal to 3.0 (Double)");

        CliRun typo = generate(plugins, "--param", "anneal_too=3");
        assertThat(typo.code()).isEqualTo(1);
        assertThat(typo.err()).contains("unknown --param 'anneal_too' (did you mean 'anneal_to'?)")
                .contains("anneal_to, class_label");
        CliRun range = generate(plugins, "--param", "anneal_to=30");
        assertThat(range.code()).isEqualTo(1);
        assertThat(range.err()).contains("'anneal_to' must be in [0, 20], got 30");

        CliRun listing = conditio("plugins", "--parameters", "--plugins", plugins.toString());
        assertThat(listing.out()).containsPattern("anneal_to +number in \\[0, 20\\] — guidance scale at the last")
                .contains("declared by guidance anneal (anneal@1.0.0)");
    }

    @Test
    void aPluginBuiltAgainstSpi010StillLoadsAndUndeclaredKeysPassToItWithAWarning() throws IOException {
        Path plugins = pluginsWith("old-anneal", ">=0.1.0 & <1.0.0", false);
        CliRun listing = conditio("plugins", "--parameters", "--plugins", plugins.toString());
        assertThat(listing.code()).as(listing.err()).isZero();
        assertThat(listing.out()).contains("built against SPI 0.1.0, declaring nothing")
                .contains("guidance anneal (old-anneal@1.0.0)");

        CliRun ok = generate(plugins, "--param", "anneal_to=3");
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.err()).contains("warning: request parameter 'anneal_to' is declared by no plugin; passed on "
                + "unchecked").contains("guidance anneal (old-anneal@1.0.0)");
        // typed as --param typed values before declarations existed
        assertThat(PngImages.readText(dir.resolve("out.png"))).containsEntry("guidance", "anneal to 3 (Long)");

        // the built-in plugins' declared keys are still checked
        CliRun range = generate(plugins, "--param", "strength=1.5");
        assertThat(range.code()).isEqualTo(1);
        assertThat(range.err()).contains("'strength' must be in (0, 1], got 1.5");
    }
}
