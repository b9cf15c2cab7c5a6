package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InpaintMask;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.npy.Npy;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The concat-conditioning plugin: inpainting (9 channels) against diffusers' StableDiffusionInpaintPipeline, and
 * instruct-pix2pix (8 channels) on UNets derived from sd-tiny (see make_wide_unets.py in the test resources).
 */
@ExtendWith(ConditioExtension.class)
class ConcatConditioningTest {
    @Fixture
    private static Conditio conditio;

    private static RgbImage png(String name) {
        return PngImages.read(TinyFixtures.array(name));
    }

    private static void report(String name, GenerationResult r, FloatTensor latents, FloatTensor image,
            TestReporter reporter) {
        RgbImage img = r.image();
        reporter.publishEntry(String.format(Locale.ROOT,
                "PARITY %-40s latents max abs %.3e rel %.3e | image max abs %.3e", name,
                TinyFixtures.maxAbsError(r.latents(), latents), TinyFixtures.relativeError(r.latents(), latents),
                image == null ? Double.NaN : TinyFixtures.maxAbsError(
                        FloatTensor.of(img.pixels(), 1, img.height(), img.width(), 3), image)));
    }

    @Test
    void inpaintingMatchesDiffusers(@TempDir Path dir, TestReporter reporter) {
        Map<String, Object> c = TinyFixtures.testCase("inpaint_ddim");
        Path model = TinyFixtures.sdTinyWithUnet(dir, TinyFixtures.model("unet-inpaint").resolve("model.onnx"));
        try (Pipeline pipeline = conditio.open(model)) {
            GenerationResult r = pipeline.generate(TinyFixtures.caseRequest(c)
                    .optScheduler("DDIMScheduler")
                    .optParameter("init_image", png((String) c.get("init_image")))
                    .optParameter("mask_image", png((String) c.get("mask_image")))
                    .optParameter("strength", ((Number) c.get("strength")).doubleValue())
                    .build());
            FloatTensor expected = Npy.readFloat(TinyFixtures.array((String) c.get("latents")));
            FloatTensor expectedImage = Npy.readFloat(TinyFixtures.array((String) c.get("image")));
            report("inpaint_ddim", r, expected, expectedImage, reporter);
            assertThat(TinyFixtures.relativeError(r.latents(), expected)).isLessThanOrEqualTo(1e-4);
            RgbImage img = r.image();
            assertThat(TinyFixtures.maxAbsError(FloatTensor.of(img.pixels(), 1, 64, 64, 3), expectedImage))
                    .isLessThanOrEqualTo(1e-3);
            assertThat(r.provenance().get("mode")).isEqualTo("inpaint");
            assertThat(r.provenance().get("plugins")).contains("inpaint=concat-conditioning@0.1.0");
        }
    }

    @Test
    void aMaskWithAnEightChannelUnetNamesTheChannelCounts(@TempDir Path dir) {
        Path model = TinyFixtures.sdTinyWithUnet(dir, TinyFixtures.resource("pix2pix-tiny/unet-image.onnx"));
        try (Pipeline pipeline = conditio.open(model)) {
            assertThatThrownBy(() -> pipeline.generate(GenerationRequest.builder().setPrompt("x").optSteps(2)
                    .optParameter("init_image", png("inpaint_init.png"))
                    .optParameter("mask_image", png("inpaint_mask.png")).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("--mask needs a UNet with 9 input channels")
                    .hasMessageContaining("unet/model.onnx has 8");
        }
    }

    @Test
    void aRegularUnetInpaintsByLatentBlending() {
        // diffusers' StableDiffusionInpaintPipeline with a 4-channel UNet: the unmasked latents are the init image's
        RgbImage mask = png("inpaint_mask.png");
        try (Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
            GenerationRequest.Builder base = GenerationRequest.builder().setPrompt("a red circle").optSteps(5)
                    .optSeed(11).optScheduler("ddim").optParameter("init_image", png("inpaint_init.png"))
                    .optParameter("mask_image", mask);
            GenerationResult a = pipeline.generate(base.build());
            GenerationResult b = pipeline.generate(base.setPrompt("a blue square").build());
            GenerationResult off = pipeline.generate(base.optParameter("mask_blend", false).build());
            assertThat(a.provenance().get("mode")).isEqualTo("inpaint");
            assertThat(a.provenance().get("mask_blend")).isEqualTo("true");
            assertThat(a.provenance().get("inpaint.unet")).isEqualTo("regular (mask by latent blending)");
            assertThat(off.provenance().get("mask_blend")).isEqualTo("false");
            double[] kept = differences(a.latents(), b.latents(), mask);
            assertThat(kept[0]).as("unmasked latents, two prompts").isEqualTo(0.0);
            assertThat(kept[1]).as("masked latents, two prompts").isGreaterThan(1e-3);
            assertThat(differences(b.latents(), off.latents(), mask)[0]).as("unmasked latents without blending")
                    .isGreaterThan(1e-3);
        }
    }

    /** Max abs difference {outside the mask, inside it}, the mask read at the latents' size. */
    private static double[] differences(FloatTensor x, FloatTensor y, RgbImage mask) {
        float[] repaint = InpaintMask.nearest(InpaintMask.binarized(mask), mask.width(), mask.height(), x.dim(3),
                x.dim(2));
        double[] d = new double[2];
        for (int i = 0; i < x.size(); i++) {
            int k = repaint[i % repaint.length] == 0f ? 0 : 1;
            d[k] = Math.max(d[k], Math.abs(x.get(i) - y.get(i)));
        }
        return d;
    }

    @Test
    void aMaskWithoutAnInitImageIsRefused(@TempDir Path dir) {
        Path model = TinyFixtures.sdTinyWithUnet(dir, TinyFixtures.model("unet-inpaint").resolve("model.onnx"));
        try (Pipeline pipeline = conditio.open(model)) {
            assertThatThrownBy(() -> pipeline.generate(GenerationRequest.builder().setPrompt("x").optSteps(2)
                    .optParameter("mask_image", png("inpaint_mask.png")).build()))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("--mask needs --init-image");
        }
    }

    @Test
    void anInpaintingUnetWithoutAMaskSaysWhatItNeeds(@TempDir Path dir) {
        Path model = TinyFixtures.sdTinyWithUnet(dir, TinyFixtures.model("unet-inpaint").resolve("model.onnx"));
        try (Pipeline pipeline = conditio.open(model)) {
            assertThatThrownBy(() -> pipeline.generate(GenerationRequest.builder().setPrompt("x").optSteps(2).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("has 9")
                    .hasMessageContaining("give --mask and --init-image");
        }
    }

    @Test
    void pix2pixWithImageChannelsThatDoNothingIsClassifierFreeGuidance(@TempDir Path dir, TestReporter reporter) {
        // image-only and unconditional branches then predict the same, so the three-way formula reduces to CFG
        Map<String, Object> c = TinyFixtures.testCase("t2i_00_DDIMScheduler");
        Path model = TinyFixtures.sdTinyWithUnet(dir, TinyFixtures.resource("pix2pix-tiny/unet-zero-image.onnx"));
        try (Pipeline pipeline = conditio.open(model)) {
            GenerationResult r = pipeline.generate(TinyFixtures.caseRequest(c)
                    .optParameter("init_image", png("inpaint_init.png"))
                    .optParameter("image_guidance_scale", 1.5).build());
            FloatTensor expected = Npy.readFloat(TinyFixtures.array("t2i_00_DDIMScheduler_latents.npy"));
            report("pix2pix zero-image vs t2i_00_DDIM", r, expected, null, reporter);
            assertThat(TinyFixtures.relativeError(r.latents(), expected)).isLessThanOrEqualTo(1e-4);
            assertThat(r.provenance().get("guidance")).isEqualTo("pix2pix(7.5, image 1.5)");
            assertThat(r.provenance().get("mode")).isEqualTo("txt2img");
        }
    }

    @Test
    void theImageGuidanceScaleSteersTowardTheImage(@TempDir Path dir) {
        Path model = TinyFixtures.sdTinyWithUnet(dir, TinyFixtures.resource("pix2pix-tiny/unet-image.onnx"));
        try (Pipeline pipeline = conditio.open(model)) {
            GenerationRequest.Builder base = GenerationRequest.builder().setPrompt("a red circle").optSteps(6)
                    .optSeed(3).optScheduler("ddim").optParameter("init_image", png("inpaint_init.png"));
            FloatTensor weak = pipeline.generate(base.optParameter("image_guidance_scale", 1.0).build()).latents();
            FloatTensor strong = pipeline.generate(base.optParameter("image_guidance_scale", 3.0).build()).latents();
            FloatTensor other = pipeline.generate(base.optParameter("image_guidance_scale", 3.0)
                    .optParameter("init_image", png("control.png")).build()).latents();
            assertThat(TinyFixtures.maxAbsError(weak, strong)).isGreaterThan(1e-3);
            assertThat(TinyFixtures.maxAbsError(strong, other)).as("another image gives another result")
                    .isGreaterThan(1e-3);
        }
    }

    @Test
    void withGuidanceOffPix2PixRunsOneBranch(@TempDir Path dir) {
        Path model = TinyFixtures.sdTinyWithUnet(dir, TinyFixtures.resource("pix2pix-tiny/unet-image.onnx"));
        try (Pipeline pipeline = conditio.open(model)) {
            GenerationResult r = pipeline.generate(GenerationRequest.builder().setPrompt("a red circle").optSteps(3)
                    .optSeed(3).optGuidanceScale(1.0).optParameter("init_image", png("inpaint_init.png")).build());
            assertThat(r.provenance().get("guidance")).isEqualTo("none");
        }
    }

    @Test
    void imageGuidanceWithoutAnImageUnetIsRefused() {
        try (Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
            assertThatThrownBy(() -> pipeline.generate(GenerationRequest.builder().setPrompt("x").optSteps(2)
                    .optParameter("init_image", png("inpaint_init.png"))
                    .optParameter("image_guidance_scale", 1.5).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("--image-guidance needs --init-image and a UNet with 8 input channels");
        }
    }

    @Test
    void maskBlendingKeepsTheInitImageLatentsOutsideTheMask(@TempDir Path dir) {
        Map<String, Object> c = TinyFixtures.testCase("inpaint_ddim");
        Path model = TinyFixtures.sdTinyWithUnet(dir, TinyFixtures.model("unet-inpaint").resolve("model.onnx"));
        RgbImage mask = png((String) c.get("mask_image"));
        try (Pipeline pipeline = conditio.open(model)) {
            GenerationRequest.Builder base = TinyFixtures.caseRequest(c).optScheduler("DDIMScheduler")
                    .optParameter("init_image", png((String) c.get("init_image"))).optParameter("mask_image", mask);
            GenerationResult plain = pipeline.generate(base.build());
            GenerationResult blended = pipeline.generate(base.optParameter("mask_blend", true).build());
            GenerationResult otherPrompt = pipeline.generate(base.setPrompt("a blue square").build());
            double[] twoPrompts = differences(blended.latents(), otherPrompt.latents(), mask);
            assertThat(InpaintMask.binarized(mask)).contains(0f, 1f);
            // outside the mask both prompts end on the init image's latents; inside, the prompt decides
            assertThat(twoPrompts[0]).as("unmasked latents, two prompts").isEqualTo(0.0);
            assertThat(twoPrompts[1]).as("masked latents, two prompts").isGreaterThan(1e-3);
            // diffusers leaves the unmasked area of a 9-channel UNet to the model: the default does not blend
            assertThat(differences(blended.latents(), plain.latents(), mask)[0])
                    .as("unmasked latents, with and without blending").isGreaterThan(1e-3);
            assertThat(plain.provenance().get("mask_blend")).isEqualTo("false");
            assertThat(blended.provenance().get("mask_blend")).isEqualTo("true");
            RgbImage small = new RgbImage(8, 8, new float[8 * 8 * 3]);
            assertThatThrownBy(() -> pipeline.generate(base.optParameter("mask_image", small).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("--mask is 8x8 but the generation is " + mask.width() + "x" + mask.height());
        }
    }

    @Test
    void controlNetAndInpaintingComposeOnOneUnet(@TempDir Path dir, TestReporter reporter) throws Exception {
        // unet-controlnet widened to the inpainting layout with inert mask channels: the result must be the
        // diffusers ControlNet case, whatever the mask, while both plugins take part
        Map<String, Object> c = TinyFixtures.testCase("cn_DDIMScheduler");
        Path model = TinyFixtures.sdTinyWithUnet(Files.createDirectories(dir.resolve("m")),
                TinyFixtures.resource("composition-tiny/unet-inpaint-controlnet.onnx"));
        try (Pipeline pipeline = conditio.open(model)) {
            GenerationResult r = pipeline.generate(TinyFixtures.caseRequest(c)
                    .optScheduler("DDIMScheduler")
                    .optParameter("init_image", png("inpaint_init.png"))
                    .optParameter("mask_image", png("inpaint_mask.png"))
                    .optParameter("controlnets", List.of(Map.of(
                            "model", TinyFixtures.model("controlnet"),
                            "image", png((String) c.get("control_image")),
                            "scale", ((Number) c.get("conditioning_scale")).doubleValue())))
                    .build());
            FloatTensor expected = Npy.readFloat(TinyFixtures.array((String) c.get("latents")));
            report("controlnet + inpaint vs cn_DDIM", r, expected, null, reporter);
            assertThat(TinyFixtures.relativeError(r.latents(), expected)).isLessThanOrEqualTo(1e-4);
            assertThat(r.provenance().get("plugins")).contains("inpaint=").contains("controlnet=");
        }
    }
}
