package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.onnx.NativeObjects;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/**
 * One pipeline, 8 threads at once: every result is bit-identical (latents and pixels) to the same request run alone.
 * The requests mix txt2img with the noise-drawing schedulers (Euler ancestral, DPM-Solver++ SDE, KDPM2 ancestral,
 * DDPM) and deterministic ones, img2img, inpainting on the 9-channel UNet and ControlNet, on one model folder whose
 * task variants (unet-inpaint/, unet-controlnet/) share the text encoder and VAE sessions.
 */
class ConcurrencyTest {
    private static final int THREADS = 8;

    private static List<GenerationRequest> requests() {
        RgbImage init = PngImages.read(TinyFixtures.array("inpaint_init.png"));
        RgbImage mask = PngImages.read(TinyFixtures.array("inpaint_mask.png"));
        RgbImage control = PngImages.read(TinyFixtures.array("control.png"));
        List<GenerationRequest> out = new ArrayList<>();
        String[] schedulers = {"euler-a", "dpm++2m-sde", "kdpm2-a", "ddpm", "dpm++2m", "unipc", "euler", "ddim"};
        for (int i = 0; i < 24; i++) {
            GenerationRequest.Builder b = GenerationRequest.builder().setPrompt(i % 2 == 0 ? "a red circle"
                    : "a blue square").optSteps(4).optSeed(100 + i).optSize(64, 64)
                    .optScheduler(schedulers[i % schedulers.length]);
            switch (i % 4) {
                case 1 -> b.optParameter("init_image", init).optParameter("strength", 0.7);
                case 2 -> b.optParameter("init_image", init).optParameter("mask_image", mask);
                case 3 -> b.optParameter("controlnets", List.of(Map.of("model", TinyFixtures.model("controlnet"),
                        "image", control, "scale", 0.8)));
                default -> { }
            }
            out.add(b.build());
        }
        return out;
    }

    @Test
    void eightThreadsOnOnePipelineGiveTheResultsOfTheSameRequestsRunOneByOne(@TempDir Path dir,
            TestReporter reporter) throws Exception {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()));
                Pipeline pipeline = conditio.open(TinyFixtures.sdTinyWithVariants(dir))) {
            List<GenerationRequest> requests = requests();
            List<GenerationResult> alone = new ArrayList<>();
            for (GenerationRequest r : requests) {
                alone.add(pipeline.generate(r));
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<GenerationResult>> together = new ArrayList<>();
                for (GenerationRequest r : requests) {
                    together.add(pool.submit(() -> {
                        start.await();
                        return pipeline.generate(r);
                    }));
                }
                start.countDown();
                int identical = 0;
                for (int i = 0; i < requests.size(); i++) {
                    GenerationResult a = alone.get(i);
                    GenerationResult b = together.get(i).get();
                    String what = "request " + i + " (" + requests.get(i).scheduler().orElse("?") + ", "
                            + a.provenance().get("mode") + ", unet " + a.provenance().get("unet") + ")";
                    assertThat(b.latents().array()).as(what + " latents").containsExactly(a.latents().array());
                    assertThat(b.images().get(0).pixels()).as(what + " pixels")
                            .containsExactly(a.images().get(0).pixels());
                    identical++;
                }
                reporter.publishEntry("ConcurrencyTest: " + identical + " of " + requests.size() + " requests on "
                        + THREADS + " threads bit-identical to their sequential results");
            } finally {
                pool.shutdownNow();
            }
            assertThat(alone.stream().map(r -> String.valueOf(r.provenance().get("unet"))).distinct())
                    .as("UNet variants used").contains("null", "unet-inpaint", "unet-controlnet");
            assertThat(NativeObjects.openTensors()).isZero();
        }
    }
}
