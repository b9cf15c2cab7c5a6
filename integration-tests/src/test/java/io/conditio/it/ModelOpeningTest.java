package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.pipeline.Pipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pipeline opens an ONNX session only for a model a request needs, on first use, once: on the shipped model, which
 * holds eight, text-to-image opens the text encoder, the UNet and the VAE decoder; image-to-image adds the VAE
 * encoder; inpainting adds the inpainting UNet. Opening the folder and the pipeline opens none.
 */
@ExtendWith(ConditioExtension.class)
class ModelOpeningTest {
    @Fixture
    private static Conditio conditio;

    private static GenerationRequest.Builder request() {
        return GenerationRequest.builder().setPrompt("a red circle at the top left").optSteps(3).optSeed(7);
    }

    @Test
    void eachKindOfRequestOpensOnlyTheModelsItUses() {
        try (Pipeline p = conditio.open(ShapesModelTest.modelDir())) {
            assertThat(p.folder().components()).as("the folder holds more than a request needs")
                    .contains("vae_encoder");
            assertThat(p.folder().openModels()).as("nothing is opened before a request").isEmpty();

            p.generate(request().build());
            assertThat(p.folder().openModels().keySet()).as("text-to-image")
                    .containsExactlyInAnyOrder("text_encoder", "unet", "vae_decoder");

            RgbImage init = ShapeImages.draw("square", "blue", "top right", 12f);
            p.generate(request().optParameter("init_image", init).optParameter("strength", 0.6).build());
            assertThat(p.folder().openModels().keySet()).as("image-to-image adds the VAE encoder")
                    .containsExactlyInAnyOrder("text_encoder", "unet", "vae_decoder", "vae_encoder");

            float[] maskPx = new float[64 * 64 * 3];
            java.util.Arrays.fill(maskPx, 64 * 32 * 3, maskPx.length, 1f);
            p.generate(request().optParameter("init_image", init)
                    .optParameter("mask_image", new RgbImage(64, 64, maskPx)).build());
            assertThat(p.folder().openModels().keySet()).as("inpainting adds the inpainting UNet")
                    .containsExactlyInAnyOrder("text_encoder", "unet", "vae_decoder", "vae_encoder", "unet-inpaint");
        }
    }

    @Test
    void concurrentFirstRequestsShareOneSessionPerModel() throws Exception {
        try (Pipeline p = conditio.open(ShapesModelTest.modelDir())) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Callable<Map<String, OnnxModel>>> tasks = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    tasks.add(() -> {
                        p.generate(request().build());
                        return p.folder().openModels();
                    });
                }
                List<Map<String, OnnxModel>> seen = new ArrayList<>();
                for (Future<Map<String, OnnxModel>> f : pool.invokeAll(tasks)) {
                    seen.add(f.get());
                }
                Map<String, OnnxModel> now = p.folder().openModels();
                assertThat(now.keySet()).containsExactlyInAnyOrder("text_encoder", "unet", "vae_decoder");
                for (Map<String, OnnxModel> s : seen) {
                    // every generation, whichever finished first, saw the very sessions that are open now
                    assertThat(s).containsExactlyInAnyOrderEntriesOf(now);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
