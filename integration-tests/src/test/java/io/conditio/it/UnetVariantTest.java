package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationResult;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.npy.Npy;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One model folder with task variants beside unet/: unet-inpaint/ for masks (the core's own), unet-controlnet/ for
 * ControlNets (named by the ControlNet plugin's {@code Conditioner.unetVariant}).
 */
class UnetVariantTest {

    @Test
    void eachRequestRunsTheUnetItNeedsAndMatchesDiffusers(@TempDir Path dir) throws IOException {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()));
                Pipeline pipeline = conditio.open(TinyFixtures.sdTinyWithVariants(dir))) {
            Map<String, Object> inpaint = TinyFixtures.testCase("inpaint_ddim");
            GenerationResult r = pipeline.generate(TinyFixtures.caseRequest(inpaint).optScheduler("DDIMScheduler")
                    .optParameter("init_image", PngImages.read(TinyFixtures.array("inpaint_init.png")))
                    .optParameter("mask_image", PngImages.read(TinyFixtures.array("inpaint_mask.png"))).build());
            FloatTensor expected = Npy.readFloat(TinyFixtures.array("inpaint_latents.npy"));
            assertThat(TinyFixtures.relativeError(r.latents(), expected)).isLessThanOrEqualTo(1e-4);
            assertThat(r.provenance().get("unet")).isEqualTo("unet-inpaint");

            Map<String, Object> cn = TinyFixtures.testCase("cn_DDIMScheduler");
            GenerationResult c = pipeline.generate(TinyFixtures.caseRequest(cn).optScheduler("DDIMScheduler")
                    .optSize(64, 64)
                    .optParameter("controlnets", List.of(Map.of("model", TinyFixtures.model("controlnet"),
                            "image", PngImages.read(TinyFixtures.array("control.png")), "scale", 0.8)))
                    .build());
            FloatTensor expectedCn = Npy.readFloat(TinyFixtures.array("cn_DDIMScheduler_latents.npy"));
            assertThat(TinyFixtures.relativeError(c.latents(), expectedCn)).isLessThanOrEqualTo(1e-4);
            assertThat(c.provenance().get("unet")).isEqualTo("unet-controlnet");

            GenerationResult plain = pipeline.generate(TinyFixtures.caseRequest(
                    TinyFixtures.testCase("t2i_00_DDIMScheduler")).optSize(64, 64).build());
            assertThat(plain.provenance().get("unet")).isNull();
            assertThat(TinyFixtures.relativeError(plain.latents(),
                    Npy.readFloat(TinyFixtures.array("t2i_00_DDIMScheduler_latents.npy")))).isLessThanOrEqualTo(1e-4);
        }
    }

    @Test
    void aUnetThatAlreadyTakesTheResidualsIsKeptForControlNets(@TempDir Path dir) throws IOException {
        // unet/ is the ControlNet UNet itself: the ControlNet plugin's variant (unet-controlnet/) is not needed
        Path folder = TinyFixtures.sdTinyWithUnet(Files.createDirectories(dir.resolve("m")),
                TinyFixtures.model("unet-controlnet").resolve("model.onnx"));
        Files.createSymbolicLink(folder.resolve("unet-controlnet"), TinyFixtures.model("unet-controlnet"));
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()));
                Pipeline pipeline = conditio.open(folder)) {
            GenerationResult c = pipeline.generate(TinyFixtures.caseRequest(TinyFixtures.testCase("cn_DDIMScheduler"))
                    .optScheduler("DDIMScheduler").optSize(64, 64)
                    .optParameter("controlnets", List.of(Map.of("model", TinyFixtures.model("controlnet"),
                            "image", PngImages.read(TinyFixtures.array("control.png")), "scale", 0.8)))
                    .build());
            assertThat(c.provenance().get("unet")).isNull();
            assertThat(TinyFixtures.relativeError(c.latents(),
                    Npy.readFloat(TinyFixtures.array("cn_DDIMScheduler_latents.npy")))).isLessThanOrEqualTo(1e-4);
        }
    }
}
