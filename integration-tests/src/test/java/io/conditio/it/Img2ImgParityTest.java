package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.core.image.PngImages;
import io.conditio.core.pipeline.Pipeline;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;

/** img2img as diffusers' StableDiffusionImg2ImgPipeline: encoder sample then noise, steps cut by strength. */
@ExtendWith(ConditioExtension.class)
class Img2ImgParityTest {
    @Model("sd-tiny")
    private static Pipeline pipeline;

    @Test
    void img2imgMatchesDiffusers(TestReporter reporter) {
        Map<String, Object> c = TinyFixtures.testCase("img2img_ddim");
        RgbImage init = PngImages.read(TinyFixtures.array((String) c.get("init_image")));
        GenerationRequest request = TinyFixtures.caseRequest(c)
                .optParameter("init_image", init)
                .optParameter("strength", ((Number) c.get("strength")).doubleValue())
                .build();

        GenerationResult result = pipeline.generate(request);

        Parity parity = Parity.ofCase(result, c);
        parity.report(reporter, "img2img_ddim", "sd-tiny", result);
        parity.assertWithin(1e-4, 1e-3);
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
