package io.conditio.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's previews of latents too large for a VAE preview: the projection fitted to the model's own VAE, which on
 * the shipped model (not a Stable Diffusion VAE) is far closer to the decoded image than Stable Diffusion's factors.
 */
class LatentPreviewTest {
    @Test
    void largeLatentsAreProjectedWithTheProjectionFittedToTheModelsVae(@TempDir Path cache) throws Exception {
        String before = System.getProperty("conditio.cache");
        System.setProperty("conditio.cache", cache.toString());
        try (Conditio conditio = Conditio.start(List.of(TestServers.directory("conditio.plugins")));
                Pipeline pipeline = conditio.open(TestServers.shapes())) {
            GenerationResult r = pipeline.generate(GenerationRequest.builder().setPrompt("a large blue square")
                    .optWidth(384).optHeight(384).optSteps(6).optSeed(3).build());
            assertThat(r.latents().dim(2) * r.latents().dim(3)).isGreaterThan(LatentPreview.VAE_PREVIEW_MAX_PLANE);
            int factor = pipeline.folder().vaeSpatialFactor();
            RgbImage preview = PngImages.decode(LatentPreview.png(pipeline.folder(), r.latents(), factor),
                    "the preview");
            RgbImage image = r.image();
            assertThat(preview.width()).isEqualTo(image.width());
            double fitted = meanAbs(preview, image);
            double sd = meanAbs(LatentPreview.project(r.latents(), factor), image);
            double grey = meanAbs(new RgbImage(image.width(), image.height(), filled(image, 0.5f)), image);
            System.out.printf("server preview vs decoded image, mean abs: fitted %.4f, SD factors %.4f, grey %.4f%n",
                    fitted, sd, grey);
            assertThat(fitted).isLessThan(grey / 2).isLessThan(sd / 2);
            try (Stream<Path> files = Files.list(cache)) {
                assertThat(files.map(p -> p.getFileName().toString()).toList()).singleElement().asString()
                        .matches("latent-rgb-[0-9a-f]{10}\\.txt");
            }
        } finally {
            if (before == null) {
                System.clearProperty("conditio.cache");
            } else {
                System.setProperty("conditio.cache", before);
            }
        }
    }

    private static float[] filled(RgbImage like, float v) {
        float[] a = new float[like.pixels().length];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static double meanAbs(RgbImage a, RgbImage b) {
        double s = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            s += Math.abs(a.pixels()[i] - b.pixels()[i]);
        }
        return s / a.pixels().length;
    }
}
