package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.GenerationCancelledException;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.ModelLoadException;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.json.Json;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** What the pipeline guarantees around the numbers: errors, hooks, cancellation, determinism, provenance. */
@ExtendWith(ConditioExtension.class)
class PipelineBehaviourTest {
    @Fixture
    private static Conditio conditio;
    @Model("sd-tiny")
    private static Pipeline pipeline;

    private static GenerationRequest.Builder request() {
        return GenerationRequest.builder().setPrompt("a red circle on a white background").optSteps(4).optSeed(7);
    }

    @Test
    void theSameSeedGivesTheSameLatentsAndAnotherSeedDoesNot() {
        GenerationResult a = pipeline.generate(request().build());
        GenerationResult b = pipeline.generate(request().build());
        GenerationResult c = pipeline.generate(request().optSeed(8).build());
        assertThat(b.latents().array()).containsExactly(a.latents().array());
        assertThat(c.latents().array()).isNotEqualTo(a.latents().array());
    }

    @Test
    void generationsOnOnePipelineFromSeveralThreadsGiveTheirSequentialResults() throws Exception {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int seed = 0; seed < 6; seed++) {
            requests.add(request().optSeed(seed).optScheduler(seed % 2 == 0 ? "euler-a" : "dpm++2m").build());
        }
        List<float[]> sequential = new ArrayList<>();
        for (GenerationRequest r : requests) {
            sequential.add(pipeline.generate(r).latents().array());
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<GenerationResult>> futures = new ArrayList<>();
            for (GenerationRequest r : requests) {
                futures.add(pool.submit(() -> pipeline.generate(r)));
            }
            for (int i = 0; i < requests.size(); i++) {
                assertThat(futures.get(i).get().latents().array()).containsExactly(sequential.get(i));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theModelFolderSchedulerIsUsedWhenTheRequestNamesNone() {
        GenerationResult r = pipeline.generate(request().build());
        assertThat(r.provenance().get("scheduler")).isEqualTo("PNDMScheduler");
        // PLMS without Runge-Kutta warm-up visits its first timestep twice, as diffusers does: 4 steps, 5 calls
        assertThat(r.timings().modelCalls()).isEqualTo(5);
    }

    @Test
    void aNamedSchedulerInheritsTheModelFoldersBetaSchedule() {
        GenerationResult r = pipeline.generate(request().optScheduler("ddim").build());
        Map<String, Object> config = jsonObject(r.provenance().get("scheduler.config"));
        assertThat(config).containsEntry("_class_name", "DDIMScheduler")
                .containsEntry("beta_schedule", "scaled_linear")
                .containsEntry("steps_offset", 1L);
    }

    @Test
    void hooksSeeEveryStepInOrder() {
        List<Integer> before = new ArrayList<>();
        List<Float> timesteps = new ArrayList<>();
        List<Integer> after = new ArrayList<>();
        pipeline.generate(request().optScheduler("ddim")
                .optBeforeStep(s -> {
                    before.add(s.stepIndex());
                    timesteps.add(s.timestep());
                })
                .optAfterStep(s -> after.add(s.stepIndex()))
                .build());
        assertThat(before).containsExactly(0, 1, 2, 3);
        assertThat(after).containsExactly(0, 1, 2, 3);
        // DDIM, leading spacing, steps_offset 1, 4 steps of 1000
        assertThat(timesteps).containsExactly(751f, 501f, 251f, 1f);
    }

    @Test
    void aCancelledGenerationStopsAndThePipelineStaysUsable() {
        List<Integer> seen = new ArrayList<>();
        assertThatThrownBy(() -> pipeline.generate(request().optScheduler("ddim").optAfterStep(s -> {
            seen.add(s.stepIndex());
            if (s.stepIndex() == 1) {
                s.cancel();
            }
        }).build())).isInstanceOf(GenerationCancelledException.class).hasMessageContaining("step 2 of 4");
        assertThat(seen).containsExactly(0, 1);
        assertThat(pipeline.generate(request().build()).latents().size()).isEqualTo(4 * 8 * 8);
    }

    @Test
    void anUnknownSchedulerNameListsTheAvailableOnes() {
        assertThatThrownBy(() -> pipeline.generate(request().optScheduler("warp-drive").build()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("unknown scheduler 'warp-drive'")
                .hasMessageContaining("ddim")
                .hasMessageContaining("DDIMScheduler");
    }

    @Test
    void aSizeThatIsNotAMultipleOfTheVaeFactorIsRefused() {
        assertThatThrownBy(() -> pipeline.generate(request().optSize(60, 64).build()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("60x64")
                .hasMessageContaining("multiple of 8");
    }

    @Test
    void anotherSizeThanTheDefaultWorks() {
        GenerationResult r = pipeline.generate(request().optSize(96, 64).build());
        assertThat(r.latents().shape()).containsExactly(1, 4, 8, 12);
        assertThat(r.image().width()).isEqualTo(96);
        assertThat(r.image().height()).isEqualTo(64);
    }

    @Test
    void aMissingModelFolderIsNamed(@TempDir Path dir) {
        Path missing = dir.resolve("no-model");
        assertThatThrownBy(() -> conditio.open(missing))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void aFolderWithoutUnetNamesTheMissingFile(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("vae_decoder"));
        Files.copy(TinyFixtures.model("sd-tiny").resolve("vae_decoder/model.onnx"),
                dir.resolve("vae_decoder/model.onnx"));
        assertThatThrownBy(() -> conditio.open(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(dir.resolve("unet").resolve("model.onnx").toString());
    }

    @Test
    void aUnetInputNoConditioningProvidesIsReportedBeforeTheFirstStepAndNothingLeaks(@TempDir Path dir)
            throws IOException {
        Path sd = TinyFixtures.model("sd-tiny");
        Path model = Files.createDirectories(dir.resolve("model"));
        for (String c : List.of("text_encoder", "tokenizer", "scheduler", "vae_decoder")) {
            Files.createSymbolicLink(model.resolve(c), sd.resolve(c));
        }
        Files.createDirectories(model.resolve("unet"));
        Files.createSymbolicLink(model.resolve("unet/model.onnx"),
                TinyFixtures.model("unet-class").resolve("model.onnx"));
        // only the scheduler and text plugins: nothing provides class_labels, so the core's own check must say so
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        for (String jar : List.of("conditio-plugin-schedulers", "conditio-plugin-text-conditioning")) {
            Path from = PluginHostTest.jarOf(jar);
            Files.copy(from, plugins.resolve(from.getFileName()));
        }
        List<Integer> steps = new ArrayList<>();
        try (Conditio textOnly = Conditio.start(List.of(plugins)); Pipeline classUnet = textOnly.open(model)) {
            assertThatThrownBy(() -> classUnet.generate(request().optBeforeStep(s -> steps.add(s.stepIndex()))
                    .build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("needs input 'class_labels' (class_labels int64 [?])")
                    .hasMessageContaining("no active conditioning provides it");
        }
        assertThat(steps).isEmpty();
    }

    @Test
    void thePngCarriesTheProvenanceAndRegeneratesTheSameImage(@TempDir Path dir) {
        GenerationResult first = pipeline.generate(request().optScheduler("ddim").optNegativePrompt("blue").build());
        Path png = dir.resolve("out.png");
        PngImages.write(png, first.image(), first.provenance().entries());

        Map<String, String> text = PngImages.readText(png);
        assertThat(text).containsEntry("seed", "7").containsEntry("steps", "4")
                .containsEntry("prompt", "a red circle on a white background")
                .containsEntry("negative_prompt", "blue")
                .containsKeys("scheduler.config", "plugins", "timing.unet_ms");
        assertThat(text.get("plugins")).contains("schedulers@0.1.0").contains("text-conditioning@0.1.0");

        GenerationRequest again = GenerationRequest.builder().setPrompt(text.get("prompt"))
                .optNegativePrompt(text.get("negative_prompt"))
                .optSeed(Long.parseLong(text.get("seed")))
                .optSteps(Integer.parseInt(text.get("steps")))
                .optGuidanceScale(Double.parseDouble(text.get("guidance_scale")))
                .optSize(Integer.parseInt(text.get("width")), Integer.parseInt(text.get("height")))
                .optSchedulerConfig(jsonObject(text.get("scheduler.config")))
                .build();
        GenerationResult second = pipeline.generate(again);
        assertThat(second.latents().array()).containsExactly(first.latents().array());
        assertThat(PngImages.read(png).pixels()).hasSize(64 * 64 * 3);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> jsonObject(String json) {
        return (Map<String, Object>) Json.parse(json);
    }

    @Test
    void guidanceAtOneRunsASingleBranch() {
        GenerationResult r = pipeline.generate(request().optGuidanceScale(1.0).build());
        assertThat(r.provenance().get("guidance")).isEqualTo("none");
        GenerationResult g = pipeline.generate(request().build());
        assertThat(r.latents().array()).isNotEqualTo(g.latents().array());
    }
}
