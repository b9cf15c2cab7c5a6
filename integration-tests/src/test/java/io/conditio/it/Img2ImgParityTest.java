package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.npy.Npy;
import io.conditio.core.pipeline.Pipeline;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;

/** img2img as diffusers' StableDiffusionImg2ImgPipeline: encoder sample then noise, steps cut by strength. */
@ExtendWith(ConditioExtension.class)
class Img2ImgParityTest {
    private static Conditio conditio;
    private static Pipeline pipeline;

    @BeforeAll
    static void open(Conditio c, @Model("sd-tiny") Pipeline pipelineFixture) {
        conditio = c;
        pipeline = pipelineFixture;
    }

    @SuppressWarnings("unchecked")
    static GenerationRequest.Builder fromCase(Map<String, Object> c) {
        return GenerationRequest.builder()
                .setPrompt((String) c.get("prompt"))
                .optNegativePrompt((String) c.get("negative_prompt"))
                .optSteps(((Number) c.get("steps")).intValue())
                .optGuidanceScale(((Number) c.get("guidance_scale")).doubleValue())
                .optSeed(((Number) c.get("seed")).longValue())
                .optSchedulerConfig((Map<String, Object>) c.get("scheduler_config"));
    }

    @Test
    void img2imgMatchesDiffusers(TestReporter reporter) {
        Map<String, Object> c = TinyFixtures.testCase("img2img_ddim");
        RgbImage init = PngImages.read(TinyFixtures.array((String) c.get("init_image")));
        GenerationRequest request = fromCase(c)
                .optParameter("init_image", init)
                .optParameter("strength", ((Number) c.get("strength")).doubleValue())
                .build();

        GenerationResult result = pipeline.generate(request);

        FloatTensor expected = Npy.readFloat(TinyFixtures.array((String) c.get("latents")));
        FloatTensor expectedImage = Npy.readFloat(TinyFixtures.array((String) c.get("image")));
        RgbImage image = result.image();
        double rel = TinyFixtures.relativeError(result.latents(), expected);
        double imageAbs = TinyFixtures.maxAbsError(FloatTensor.of(image.pixels(), 1, 64, 64, 3), expectedImage);
        reporter.publishEntry(String.format(Locale.ROOT,
                "PARITY %-40s %-15s latents max abs %.3e rel %.3e | image max abs %.3e",
                "img2img_ddim", "sd-tiny", TinyFixtures.maxAbsError(result.latents(), expected), rel, imageAbs));
        assertThat(rel).isLessThanOrEqualTo(1e-4);
        assertThat(imageAbs).isLessThanOrEqualTo(1e-3);
        // 10 steps at strength 0.6 run the last 6
        assertThat(result.timings().modelCalls()).isEqualTo(6);
        assertThat(result.provenance().get("mode")).isEqualTo("img2img");
        assertThat(result.provenance().get("strength")).isEqualTo("0.6");
    }

    @Test
    void strengthWithoutAnInitImageIsRefused() {
        assertThatThrownBy(() -> pipeline.generate(GenerationRequest.builder().setPrompt("x").optSteps(2)
                .optParameter("strength", 0.5).build()))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("--init-image");
    }

    @Test
    void aStrengthThatLeavesNoStepIsRefused() {
        RgbImage init = PngImages.read(TinyFixtures.array("inpaint_init.png"));
        assertThatThrownBy(() -> pipeline.generate(GenerationRequest.builder().setPrompt("x").optSteps(4)
                .optParameter("init_image", init).optParameter("strength", 0.1).build()))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("no step");
    }

    @Test
    void anInitImageOfAnotherSizeIsResizedToTheRequestedSize() {
        RgbImage init = PngImages.read(TinyFixtures.array("inpaint_init.png"));
        GenerationResult r = pipeline.generate(GenerationRequest.builder().setPrompt("x").optSteps(4).optSeed(1)
                .optSize(96, 96).optParameter("init_image", init).optParameter("strength", 0.5).build());
        assertThat(r.latents().shape()).containsExactly(1, 4, 12, 12);
    }
}
