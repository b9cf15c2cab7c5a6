package io.conditio.it;

import static io.conditio.it.CliRun.conditio;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.core.image.PngImages;
import io.conditio.core.npy.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The conditio command, run in-process with the built plugin directory, as scripts use it. */
class CliTest {
    @TempDir
    Path dir;

    private String model() {
        return TinyFixtures.model("sd-tiny").toString();
    }

    private String plugins() {
        return TinyFixtures.pluginDir().toString();
    }

    @Test
    void generateWritesAPngAndLatentsThatMatchDiffusers() throws IOException {
        Path png = dir.resolve("out.png");
        Path npy = dir.resolve("latents.npy");
        CliRun run = conditio("generate", "--model", model(), "--prompt", "a red circle on a white background",
                "--steps", "8", "--guidance", "7.5", "--seed", "7", "--scheduler", "ddim", "--out", png.toString(),
                "--save-latents", npy.toString(), "--plugins", plugins());

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("wrote " + png).contains("seed 7").contains("per step");
        FloatTensor expected = Npy.readFloat(TinyFixtures.array("t2i_00_DDIMScheduler_latents.npy"));
        assertThat(TinyFixtures.relativeError(Npy.readFloat(npy), expected)).isLessThanOrEqualTo(1e-4);
        assertThat(Files.size(png)).isPositive();
        assertThat(PngImages.readText(png)).containsEntry("seed", "7").containsEntry("scheduler", "ddim");
    }

    @Test
    void threadsSetsTheSessionsIntraOpThreadsForTheCommandOnly() {
        String property = io.conditio.core.onnx.OnnxModel.INTRA_OP_THREADS_PROPERTY;
        assertThat(System.getProperty(property)).isNull();
        Path npy = dir.resolve("latents.npy");
        CliRun run = conditio("generate", "--model", model(), "--prompt", "a red circle on a white background",
                "--steps", "8", "--guidance", "7.5", "--seed", "7", "--scheduler", "ddim", "--threads", "1",
                "--out", dir.resolve("out.png").toString(), "--save-latents", npy.toString(), "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        FloatTensor expected = Npy.readFloat(TinyFixtures.array("t2i_00_DDIMScheduler_latents.npy"));
        assertThat(TinyFixtures.relativeError(Npy.readFloat(npy), expected)).isLessThanOrEqualTo(1e-4);
        assertThat(System.getProperty(property)).as("restored after the command").isNull();

        CliRun zero = conditio("generate", "--model", model(), "--prompt", "x", "--threads", "0",
                "--out", dir.resolve("zero.png").toString(), "--plugins", plugins());
        assertThat(zero.code()).isNotZero();
        assertThat(zero.err()).contains("--threads 0").contains("positive number of threads");
        assertThat(System.getProperty(property)).isNull();
    }

    @Test
    void sessionFlagsKeepTheLatentsAndCudaFallsBackToTheCpuWithOneWarning() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeFalse(ai.onnxruntime.OrtEnvironment.getAvailableProviders()
                .contains(ai.onnxruntime.OrtProvider.CUDA), "this ONNX Runtime has CUDA: no fallback to see");
        Path npy = dir.resolve("latents.npy");
        Path cache = dir.resolve("model-cache");
        CliRun run = conditio("generate", "--model", model(), "--prompt", "a red circle on a white background",
                "--steps", "8", "--guidance", "7.5", "--seed", "7", "--scheduler", "ddim", "--device", "cuda:5",
                "--execution-mode", "parallel", "--inter-op-threads", "2", "--no-memory-arena",
                "--model-cache", cache.toString(), "--out", dir.resolve("out.png").toString(),
                "--save-latents", npy.toString(), "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.err().lines().filter(l -> l.contains("cuda:5")).toList()).hasSize(1)
                .allMatch(l -> l.contains("running on the CPU") && l.contains("onnxruntime_gpu"));
        FloatTensor expected = Npy.readFloat(TinyFixtures.array("t2i_00_DDIMScheduler_latents.npy"));
        assertThat(TinyFixtures.relativeError(Npy.readFloat(npy), expected)).isLessThanOrEqualTo(1e-4);
        try (java.util.stream.Stream<Path> s = Files.list(cache)) {
            assertThat(s.filter(p -> Files.isRegularFile(p.resolve("model.onnx"))).count())
                    .as("the UNet, VAE decoder and text encoder optimised into the cache").isGreaterThanOrEqualTo(2);
        }

        CliRun again = conditio("generate", "--model", model(), "--prompt", "a red circle on a white background",
                "--steps", "8", "--guidance", "7.5", "--seed", "7", "--scheduler", "ddim", "--model-cache",
                cache.toString(), "--out", dir.resolve("again.png").toString(), "--save-latents",
                dir.resolve("again.npy").toString(), "--plugins", plugins());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(Npy.readFloat(dir.resolve("again.npy")).array()).as("from the cached, optimised models")
                .containsExactly(Npy.readFloat(npy).array());

        CliRun bad = conditio("generate", "--model", model(), "--prompt", "x", "--device", "gpu",
                "--out", dir.resolve("bad.png").toString(), "--plugins", plugins());
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("--device gpu").contains("expected cpu, cuda or cuda:N");
        CliRun mode = conditio("generate", "--model", model(), "--prompt", "x", "--execution-mode", "fast",
                "--out", dir.resolve("mode.png").toString(), "--plugins", plugins());
        assertThat(mode.code()).isNotZero();
        assertThat(mode.err()).contains("--execution-mode 'fast'").contains("expected sequential or parallel");
    }

    @Test
    void aSchedulerConfigFilePicksTheClassAndConfiguresIt() throws IOException {
        Path config = dir.resolve("scheduler.json");
        Files.writeString(config, "{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": 1000, "
                + "\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.012, "
                + "\"steps_offset\": 1, \"set_alpha_to_one\": false, \"clip_sample\": false}");
        Path npy = dir.resolve("l.npy");
        CliRun run = conditio("generate", "--model", model(), "--prompt", "a red circle on a white background",
                "--steps", "8", "--seed", "7", "--scheduler-config", config.toString(), "--out",
                dir.resolve("o.png").toString(), "--save-latents", npy.toString(), "--plugins", plugins());

        assertThat(run.code()).as(run.err()).isZero();
        FloatTensor expected = Npy.readFloat(TinyFixtures.array("t2i_00_DDIMScheduler_latents.npy"));
        assertThat(TinyFixtures.relativeError(Npy.readFloat(npy), expected)).isLessThanOrEqualTo(1e-4);
    }

    @Test
    void aMissingModelFolderIsOneLineAndExitCodeOne() {
        CliRun run = conditio("generate", "--model", dir.resolve("missing").toString(), "--prompt", "x",
                "--plugins", plugins());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err().strip()).doesNotContain("\n").contains("missing").contains("no such directory");
        assertThat(run.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void anUnknownFlagIsAUsageErrorWithExitCodeTwo() {
        CliRun run = conditio("generate", "--model", model(), "--colour", "red");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("--colour").doesNotContain("\tat ");
    }

    @Test
    void aNonNumericStepCountNamesTheFlag() {
        CliRun run = conditio("generate", "--model", model(), "--steps", "many");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("--steps").contains("many");
    }

    @Test
    void schedulerAndSchedulerConfigAreMutuallyExclusive() {
        CliRun run = conditio("generate", "--model", model(), "--scheduler", "ddim", "--scheduler-config", "x.json");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("mutually exclusive");
    }

    @Test
    void anUnknownSchedulerIsOneLineListingTheNames() {
        CliRun run = conditio("generate", "--model", model(), "--scheduler", "nope", "--out",
                dir.resolve("o.png").toString(), "--plugins", plugins());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("unknown scheduler 'nope'").contains("ddim").doesNotContain("\tat ");
    }

    /**
     * Runs {@code conditio generate} with the prompt "a red circle on a white background", seed 7 and the flags,
     * writing {@code NAME.png} and the latents to {@code NAME.npy}, and checks that it succeeded.
     *
     * @return the latents file
     */
    private Path generateSavingLatents(String model, String name, String... flags) {
        Path npy = dir.resolve(name + ".npy");
        List<String> args = new ArrayList<>(List.of("generate", "--model", model, "--prompt",
                "a red circle on a white background", "--seed", "7"));
        args.addAll(List.of(flags));
        args.addAll(List.of("--out", dir.resolve(name + ".png").toString(), "--save-latents", npy.toString(),
                "--plugins", plugins()));
        CliRun run = conditio(args.toArray(String[]::new));
        assertThat(run.code()).as(run.err()).isZero();
        return npy;
    }

    private static void assertLatentsWithin(Path npy, String expected, double tolerance) {
        assertThat(TinyFixtures.relativeError(Npy.readFloat(npy), Npy.readFloat(TinyFixtures.array(expected))))
                .isLessThanOrEqualTo(tolerance);
    }

    private Path modelWithUnet(String folder, String unet) throws IOException {
        return TinyFixtures.sdTinyWithUnet(Files.createDirectories(dir.resolve(folder)),
                TinyFixtures.model(unet).resolve("model.onnx"));
    }

    @Test
    void img2imgThroughTheCliMatchesDiffusers() {
        Path npy = generateSavingLatents(model(), "i2i", "--steps", "10", "--scheduler", "ddim", "--init-image",
                TinyFixtures.array("inpaint_init.png").toString(), "--strength", "0.6");
        assertLatentsWithin(npy, "img2img_latents.npy", 1e-4);
        assertThat(PngImages.readText(dir.resolve("i2i.png"))).containsEntry("mode", "img2img")
                .containsEntry("parameter.source.init_image", TinyFixtures.array("inpaint_init.png").toString());
    }

    @Test
    void inpaintingThroughTheCliMatchesDiffusers() throws IOException {
        Path npy = generateSavingLatents(modelWithUnet("inpaint-model", "unet-inpaint").toString(), "inpaint",
                "--steps", "8", "--scheduler", "ddim", "--init-image",
                TinyFixtures.array("inpaint_init.png").toString(), "--mask",
                TinyFixtures.array("inpaint_mask.png").toString());
        assertLatentsWithin(npy, "inpaint_latents.npy", 1e-4);
    }

    @Test
    void controlNetThroughTheCliMatchesDiffusers() throws IOException {
        Path npy = generateSavingLatents(modelWithUnet("cn-model", "unet-controlnet").toString(), "cn",
                "--steps", "8", "--scheduler", "ddim", "--controlnet", TinyFixtures.model("controlnet").toString(),
                "--control-image", TinyFixtures.array("control.png").toString(), "--control-scale", "0.8");
        assertLatentsWithin(npy, "cn_DDIMScheduler_latents.npy", 1e-4);
    }

    @Test
    void classLabelsThroughTheCliMatchDiffusers() throws IOException {
        Path npy = generateSavingLatents(modelWithUnet("class-model", "unet-class").toString(), "class",
                "--steps", "8", "--guidance", "4", "--scheduler", "euler", "--class-label", "3",
                "--null-class-label", "9");
        // int64 timestep input: the fixture README's 1e-2 for fractional-timestep schedulers
        assertLatentsWithin(npy, "class_euler_latents.npy", 1e-2);
        assertThat(PngImages.readText(dir.resolve("class.png"))).containsEntry("parameter.class_label", "3");
    }

    @Test
    void paramPassesTypedRequestParametersToPlugins() {
        Path png = dir.resolve("p.png");
        CliRun run = conditio("generate", "--model", model(), "--prompt", "(red) circle", "--steps", "2", "--seed", "1",
                "--param", "prompt_weighting=false", "--out", png.toString(), "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        // a Boolean reached the text plugin (a String would have been refused with a type error)
        assertThat(PngImages.readText(png)).containsEntry("text.prompt_weighting", "false");
    }

    @Test
    void aMissingInitImageIsOneLineNamingIt() {
        CliRun run = conditio("generate", "--model", model(), "--prompt", "x", "--init-image",
                dir.resolve("nope.png").toString(), "--plugins", plugins());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err().strip()).doesNotContain("\n").contains("nope.png").contains("not found");
    }

    @Test
    void aMalformedSizePairNamesTheFlag() {
        CliRun run = conditio("generate", "--model", model(), "--prompt", "x", "--original-size", "1024",
                "--plugins", plugins());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("--original-size 1024: expected two integers");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ddim", "pndm", "lms", "euler", "euler-a", "heun", "dpm++2m", "dpm++2m-karras",
        "dpm++2m-sde", "dpm++2s", "unipc", "deis", "ddpm", "lcm", "tcd", "kdpm2", "kdpm2-a", "flow-euler"})
    void everySchedulerNameGeneratesOnTheFixtureModel(String name) {
        Path npy = dir.resolve(name + ".npy");
        CliRun run = conditio("generate", "--model", model(), "--prompt", "a red circle", "--steps", "4", "--seed", "1",
                "--scheduler", name, "--out", dir.resolve(name + ".png").toString(), "--save-latents", npy.toString(),
                "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        FloatTensor latents = Npy.readFloat(npy);
        for (float v : latents.array()) {
            assertThat(Float.isFinite(v)).as("finite latents from %s", name).isTrue();
        }
        assertThat(PngImages.readText(dir.resolve(name + ".png"))).containsEntry("scheduler", name);
    }

    @Test
    void aSchedulerConfigThatCannotWorkIsRefusedInWords() throws IOException {
        Path config = dir.resolve("zero-snr.json");
        Files.writeString(config, "{\"_class_name\": \"DDIMScheduler\", \"rescale_betas_zero_snr\": true, "
                + "\"timestep_spacing\": \"trailing\"}");
        CliRun run = conditio("generate", "--model", model(), "--prompt", "x", "--steps", "4", "--scheduler-config",
                config.toString(), "--out", dir.resolve("z.png").toString(), "--plugins", plugins());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("rescale_betas_zero_snr").contains("v_prediction").doesNotContain("\tat ");
        assertThat(Files.exists(dir.resolve("z.png"))).isFalse();
    }

    @Test
    void pluginsListsEveryPluginWithVersionAndExtensions() {
        CliRun run = conditio("plugins", "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("schedulers 0.1.0  STARTED").contains("text-conditioning 0.1.0  STARTED")
                .contains("io.conditio.plugins.text.TextConditioner").contains("ddim");
    }

    @Test
    void pluginsSchedulerKeysListsWhatAClassReadsWithItsDefaults() {
        CliRun run = conditio("plugins", "--scheduler-keys", "DDIMScheduler", "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).startsWith("DDIMScheduler:")
                .containsPattern("timestep_spacing +enum linspace\\|leading\\|trailing  default leading — ")
                .containsPattern("beta_start +number in \\[0, 1\\)  default 1.0E-4 — ")
                .containsPattern("eta +number >= 0  default 0.0 — ")
                .containsPattern("prediction_type +enum epsilon\\|sample\\|v_prediction  default epsilon — ")
                .doesNotContain("EulerDiscreteScheduler");

        CliRun all = conditio("plugins", "--scheduler-keys", "--plugins", plugins());
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out()).contains("LCMScheduler:").containsPattern("beta_schedule +.*default scaled_linear")
                .contains("FlowMatchEulerDiscreteScheduler:").containsPattern("shift +number  default 1.0");

        CliRun unknown = conditio("plugins", "--scheduler-keys", "DDIM", "--plugins", plugins());
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("no scheduler class 'DDIM'").contains("DDIMScheduler");
    }

    @Test
    void pluginsListsTheControlPreprocessors() {
        CliRun run = conditio("plugins", "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("control preprocessors (--control-preprocess, --adapter-preprocess):")
                .containsPattern("canny +Canny edges").contains("softedge").contains("lineart").contains("scribble")
                .contains("segmentation").containsPattern("depth +depth map")
                .containsPattern("dwpose +OpenPose skeleton .*dw-ll_ucoco_384.onnx").containsPattern("openpose +the same")
                .contains("t2i-adapter 0.1.0  STARTED");
    }

    @Test
    void anUnknownControlPreprocessorListsTheAvailableOnes() {
        Path shapes = ShapesModelTest.modelDir();
        CliRun run = conditio("generate", "--model", shapes.toString(), "--prompt", "a red circle", "--steps", "2",
                "--t2i-adapter", shapes.resolve("t2i-adapter").toString(), "--adapter-image",
                TinyFixtures.resource("t2i-adapter-parity/sketch_circle.png").toString(), "--adapter-preprocess",
                "hed", "--out", dir.resolve("p.png").toString(), "--plugins", plugins());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("unknown --control-preprocess 'hed'").contains("canny").contains("scribble")
                .contains("depth").contains("dwpose").contains("openpose").contains("none").doesNotContain("\tat ");
    }

    @Test
    void aT2IAdapterFromTheCommandLinePicksTheAdapterUnet() throws IOException {
        Path shapes = ShapesModelTest.modelDir();
        Path png = dir.resolve("a.png");
        CliRun run = conditio("generate", "--model", shapes.toString(), "--prompt", "a red circle", "--steps", "4",
                "--seed", "3", "--t2i-adapter", shapes.resolve("t2i-adapter").toString(), "--adapter-image",
                TinyFixtures.resource("t2i-adapter-parity/sketch_circle.png").toString(), "--adapter-scale", "0.9",
                "--adapter-factor", "0.75", "--t2i-adapter", shapes.resolve("t2i-adapter").toString(),
                "--adapter-image", TinyFixtures.resource("t2i-adapter-parity/sketch_square.png").toString(),
                "--adapter-preprocess", "scribble", "--out", png.toString(), "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(Files.size(png)).isPositive();
    }

    @Test
    void pluginsExitsNonZeroWhenAPluginIsNotUsable() throws IOException {
        PluginHostTest.rewriteManifest(PluginHostTest.jarOf("conditio-plugin-text-conditioning"),
                dir.resolve("future.jar"), "future-text", ">=9.0.0");
        CliRun run = conditio("plugins", "--plugins", dir.toString());
        assertThat(run.code()).isEqualTo(3);
        assertThat(run.out()).contains("not usable: requires Conditio SPI >=9.0.0");
    }

    @Test
    void benchReportsTheLoopStepNextToTheReplayedUnetCalls() {
        CliRun run = conditio("bench", "--model", model(), "--steps", "4", "--warmup", "1", "--runs", "2",
                "--no-alloc", "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("loop per step").contains("replayed UNet").contains("(5 UNet calls)")
                .contains("64x64");
    }

    @Test
    void benchJsonIsOneLinePerSizeWithTheFloorAndTheHeapPerStep() {
        CliRun run = conditio("bench", "--model", model(), "--steps", "4", "--warmup", "1", "--runs", "2",
                "--scheduler", "ddim", "--size", "64,128", "--json", "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        java.util.List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(2);
        for (int i = 0; i < 2; i++) {
            java.util.Map<String, Object> line = castMap(io.conditio.core.json.Json.parse(lines.get(i)));
            assertThat(((Number) line.get("width")).intValue()).isEqualTo(i == 0 ? 64 : 128);
            assertThat(((Number) line.get("unet_calls")).intValue()).isEqualTo(4);
            assertThat(((Number) line.get("replayed_unet_ms")).doubleValue()).isPositive();
            assertThat(((Number) line.get("loop_ms_per_step")).doubleValue()).isPositive();
            assertThat(((Number) line.get("ratio")).doubleValue()).isPositive();
            assertThat(((Number) line.get("heap_bytes_per_step")).doubleValue()).isPositive();
        }
    }

    @SuppressWarnings("unchecked")
    private static java.util.Map<String, Object> castMap(Object json) {
        assertThat(json).isInstanceOf(java.util.Map.class);
        return (java.util.Map<String, Object>) json;
    }

    @Test
    void benchMeasuresEachImagesPerPromptCountAsOneBatch() {
        CliRun run = conditio("bench", "--model", model(), "--steps", "4", "--warmup", "1", "--runs", "1",
                "--scheduler", "ddim", "--num-images", "1,2", "--json", "--plugins", plugins());
        assertThat(run.code()).as(run.err()).isZero();
        java.util.List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(2);
        for (int i = 0; i < 2; i++) {
            java.util.Map<String, Object> line = castMap(io.conditio.core.json.Json.parse(lines.get(i)));
            assertThat(((Number) line.get("images_per_prompt")).intValue()).isEqualTo(i + 1);
            assertThat(((Number) line.get("unet_calls")).intValue()).as("one UNet call per step").isEqualTo(4);
            assertThat(((Number) line.get("heap_bytes_per_step")).doubleValue()).isPositive();
        }
        CliRun refused = conditio("bench", "--model", model(), "--num-images", "0", "--plugins", plugins());
        assertThat(refused.code()).isNotZero();
        assertThat(refused.err()).contains("--num-images 0").contains("1 to 64");
    }

    @Test
    void benchRefusesASizeThatIsNotAMultipleOfEight() {
        CliRun run = conditio("bench", "--model", model(), "--size", "64,100", "--plugins", plugins());
        assertThat(run.code()).isNotZero();
        assertThat(run.err()).contains("--size 100").contains("multiple of 8");
    }

}
