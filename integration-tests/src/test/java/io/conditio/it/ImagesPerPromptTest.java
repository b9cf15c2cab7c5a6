package io.conditio.it;

import static io.conditio.it.CliRun.conditio;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.core.MemoryLimit;
import io.conditio.core.image.PngImages;
import io.conditio.core.pipeline.Pipeline;
import io.conditio.core.recipe.InfoText;
import io.conditio.core.recipe.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Several images of one prompt in one UNet batch, on the shipped model: image {@code k} of a batch with seed
 * {@code s} is the image generated alone with seed {@code s + k}, for every conditioning family (text with an
 * ancestral scheduler, ControlNet, 9-channel inpainting, class labels, T2I-Adapter, img2img), whether the guidance
 * branches run as one call or one call each; and each image's PNG regenerates that image alone.
 *
 * <p>Tolerance: the batched UNet's convolutions may differ from the single ones in the last bits, so latents are
 * compared to within {@value #LATENT_TOLERANCE} absolute and pixels to within one 8-bit level.
 */
@ExtendWith(ConditioExtension.class)
class ImagesPerPromptTest {
    private static final double LATENT_TOLERANCE = 1e-4;
    private static final float PIXEL_TOLERANCE = 1f / 255f + 1e-6f;
    private static final long SEED = 13;

    @Model(Model.SHAPES)
    private static Pipeline shapes;

    @TempDir
    Path dir;

    private static Path recipes() {
        return ShapesModelTest.modelDir().getParent().getParent().resolve("docs/recipes");
    }

    private static GenerationRequest.Builder recipe(String name) {
        return Recipe.read(recipes().resolve(name)).toRequestBuilder(shapes.parameters()).optSteps(5).optSeed(SEED);
    }

    static Stream<String> families() {
        return Stream.of("txt2img.json", "controlnet.json", "inpaint.yaml", "class-label.yaml", "t2i-adapter.json");
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("families")
    void imageKOfABatchIsTheImageOfSeedPlusKAlone(String recipe) {
        GenerationResult batch = shapes.generate(recipe(recipe).optImagesPerPrompt(3).build());
        assertThat(batch.images()).hasSize(3);
        assertThat(batch.latents().shape()).startsWith(3);
        assertBatchIsEachAlone(recipe, batch);
    }

    @Test
    void img2imgDrawsEachImagesVaeSampleAndNoiseFromItsOwnSeed() {
        GenerationRequest.Builder b = recipe("txt2img.json")
                .optParameter("init_image", PngImages.read(recipes().resolve("../examples/inpaint-init.png")))
                .optParameter("strength", 0.7);
        GenerationResult batch = shapes.generate(b.optImagesPerPrompt(2).build());
        assertThat(batch.provenance().get("mode")).isEqualTo("img2img");
        for (int k = 0; k < 2; k++) {
            GenerationResult alone = shapes.generate(b.optImagesPerPrompt(1).optSeed(SEED + k).build());
            assertClose(batch.latents().batchEntry(k), alone.latents(), "img2img image " + k);
        }
    }

    @Test
    void splittingTheGuidanceBatchGivesTheSameLatents() {
        GenerationResult joined = shapes.generate(recipe("controlnet.json").optImagesPerPrompt(2).build());
        GenerationResult split = shapes.generate(recipe("controlnet.json").optImagesPerPrompt(2)
                .optSplitGuidanceBatch(true).build());
        assertClose(split.latents(), joined.latents(), "split guidance batch");
        assertThat(split.provenance().get("split_guidance_batch")).isEqualTo("true");
        GenerationResult splitOne = shapes.generate(recipe("txt2img.json").optSplitGuidanceBatch(true).build());
        GenerationResult one = shapes.generate(recipe("txt2img.json").build());
        assertClose(splitOne.latents(), one.latents(), "split guidance batch, one image");
    }

    @Test
    void differentSeedsGiveDifferentImagesInOneBatch() {
        GenerationResult batch = shapes.generate(recipe("txt2img.json").optImagesPerPrompt(2).build());
        assertThat(maxDiff(batch.latents().batchEntry(0), batch.latents().batchEntry(1))).isGreaterThan(0.1);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, GenerationRequest.MAX_IMAGES_PER_PROMPT + 1})
    void outOfRangeCountsAreRefusedNamingTheSetting(int n) {
        assertThatThrownBy(() -> GenerationRequest.builder().optImagesPerPrompt(n))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("images per prompt must be 1 to " + GenerationRequest.MAX_IMAGES_PER_PROMPT)
                .hasMessageContaining("got " + n);
        CliRun run = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--num-images",
                Integer.toString(n), "--out", dir.resolve("x.png").toString(), "--plugins",
                TinyFixtures.pluginDir().toString());
        assertThat(run.code()).isNotZero();
        assertThat(run.err()).contains("--num-images " + n + ": expected 1 to "
                + GenerationRequest.MAX_IMAGES_PER_PROMPT);
        assertThat(Files.exists(dir.resolve("x-0.png"))).isFalse();
    }

    @Test
    void theMemoryLimitCountsEveryImage() {
        GenerationRequest one = recipe("txt2img.json").optSteps(1).build();
        double single = MemoryLimit.generationBytes(64, 64, shapes.folder().vaeFullResolutionChannels(), 1);
        double many = MemoryLimit.generationBytes(64, 64, shapes.folder().vaeFullResolutionChannels(), 64);
        assertThat(many).isGreaterThan(2 * single);
        String before = System.getProperty(MemoryLimit.PROPERTY);
        System.setProperty(MemoryLimit.PROPERTY, Long.toString((long) (2 * single)));
        try {
            assertThat(shapes.generate(one).images()).hasSize(1);
            assertThatThrownBy(() -> shapes.generate(one.toBuilder().optImagesPerPrompt(64).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("64 images of 64x64 (images per prompt)")
                    .hasMessageContaining("more than the memory limit");
        } finally {
            if (before == null) {
                System.clearProperty(MemoryLimit.PROPERTY);
            } else {
                System.setProperty(MemoryLimit.PROPERTY, before);
            }
        }
    }

    @Test
    void theCliWritesOnePngPerImageEachRegeneratingItsImageAlone() {
        Path out = dir.resolve("many.png");
        CliRun made = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--prompt",
                "a blue square", "--scheduler", "euler-a", "--steps", "4", "--seed", "21", "--num-images", "3",
                "--out", out.toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(made.code()).as(made.err()).isZero();
        assertThat(made.out()).contains("many-0.png").contains("many-2.png").contains("seed 21 to 23")
                .contains("wrote " + out + " (3 images)");
        assertThat(PngImages.read(out).width()).as("the grid at --out").isGreaterThan(3 * 64);
        assertThat(PngImages.readText(out)).doesNotContainKey("conditio.recipe");
        for (int k = 0; k < 3; k++) {
            Path png = dir.resolve("many-" + k + ".png");
            Map<String, String> info = InfoText.parse(PngImages.readText(png).get("parameters"));
            assertThat(info).containsEntry("Seed", Long.toString(21 + k)).containsEntry("Batch size", "3")
                    .containsEntry("Batch pos", Integer.toString(k));
            Path again = dir.resolve("again-" + k + ".png");
            CliRun regen = conditio("regenerate", png.toString(), "--out", again.toString(), "--plugins",
                    TinyFixtures.pluginDir().toString());
            assertThat(regen.code()).as(regen.out() + regen.err()).isZero();
            assertThat(regen.out()).contains("identical pixels");
            assertThat(PngImages.read(again).pixels()).containsExactly(PngImages.read(png).pixels());
            // and the same image from the plain command with that seed
            Path single = dir.resolve("single-" + k + ".png");
            CliRun alone = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--prompt",
                    "a blue square", "--scheduler", "euler-a", "--steps", "4", "--seed", Long.toString(21 + k),
                    "--out", single.toString(), "--plugins", TinyFixtures.pluginDir().toString());
            assertThat(alone.code()).as(alone.err()).isZero();
            assertPixelsClose(PngImages.read(png).pixels(), PngImages.read(single).pixels(), "CLI image " + k);
        }
    }

    private static void assertBatchIsEachAlone(String recipe, GenerationResult batch) {
        for (int k = 0; k < batch.images().size(); k++) {
            GenerationResult alone = shapes.generate(recipe(recipe).optSeed(SEED + k).build());
            assertClose(batch.latents().batchEntry(k), alone.latents(), recipe + " image " + k);
            assertPixelsClose(batch.images().get(k).pixels(), alone.image().pixels(), recipe + " image " + k);
            assertThat(batch.provenance(k).get("seed")).isEqualTo(Long.toString(SEED + k));
            assertThat(batch.provenance(k).get("image_index")).isEqualTo(Integer.toString(k));
            assertThat(batch.provenance(k).get("conditio.recipe")).contains("\"seed\":" + (SEED + k))
                    .isEqualTo(alone.provenance().get("conditio.recipe"));
        }
    }

    private static void assertClose(FloatTensor actual, FloatTensor expected, String what) {
        assertThat(actual.shape()).as(what).containsExactly(expected.shape());
        assertThat(maxDiff(actual, expected)).as(what + ": largest latent difference").isLessThanOrEqualTo(
                LATENT_TOLERANCE);
    }

    private static double maxDiff(FloatTensor a, FloatTensor b) {
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            max = Math.max(max, Math.abs(a.array()[i] - b.array()[i]));
        }
        return max;
    }

    private static void assertPixelsClose(float[] actual, float[] expected, String what) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        float max = 0;
        for (int i = 0; i < actual.length; i++) {
            max = Math.max(max, Math.abs(actual[i] - expected[i]));
        }
        assertThat(max).as(what + ": largest pixel difference").isLessThanOrEqualTo(PIXEL_TOLERANCE);
    }
}
