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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controlnet plugin, loaded by PF4J from the built jars, on the diffusers-tiny ControlNet fixtures: parity of the
 * {@code cn_DDIMScheduler} case with diffusers' StableDiffusionControlNetPipeline (latents within 1e-4 × max(1,
 * max|expected|), image within 1e-3), and the behaviour around it: zeros without a ControlNet, control start/end,
 * guess mode, several ControlNets, Canny, and the errors.
 */
@ExtendWith(ConditioExtension.class)
class ControlNetParityTest {
    private static final String CASE = "cn_DDIMScheduler";

    @TempDir
    static Path temp;

    private static Pipeline controlUnet;
    private static Pipeline sdTiny;
    private static RgbImage control;

    @BeforeAll
    static void open(Conditio conditio, @Model("sd-tiny") Pipeline sdTinyFixture) {
        controlUnet = conditio.open(withUnet(temp.resolve("unet-controlnet"),
                TinyFixtures.model("unet-controlnet").resolve("model.onnx")));
        sdTiny = sdTinyFixture;
        control = PngImages.read(TinyFixtures.array("control.png"));
    }

    @AfterAll
    static void close() {
        if (controlUnet != null) {
            controlUnet.close();
        }
    }

    /** A model folder of links: sd-tiny's text encoder, tokenizer, scheduler and VAE decoder, with another UNet. */
    static Path withUnet(Path dir, Path unet) {
        try {
            Files.createDirectories(dir.resolve("unet"));
            Path sd = TinyFixtures.model("sd-tiny");
            for (String c : List.of("text_encoder", "tokenizer", "scheduler", "vae_decoder")) {
                Files.createSymbolicLink(dir.resolve(c), sd.resolve(c));
            }
            Files.createSymbolicLink(dir.resolve("unet/model.onnx"), unet);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static GenerationRequest.Builder caseRequest() {
        return TinyFixtures.sizedCaseRequest(TinyFixtures.testCase(CASE));
    }

    private static Map<String, Object> controlnet(Object... settings) {
        Map<String, Object> m = new HashMap<>();
        m.put("model", TinyFixtures.model("controlnet"));
        m.put("image", control);
        for (int i = 0; i < settings.length; i += 2) {
            m.put((String) settings[i], settings[i + 1]);
        }
        return m;
    }

    private static GenerationResult run(GenerationRequest.Builder request, List<Map<String, Object>> controlnets) {
        return controlUnet.generate(request.optParameter("controlnets", controlnets).build());
    }

    @Test
    void theControlImageIsReadAsDiffusersReadsIt() {
        FloatTensor expected = Npy.readFloat(TinyFixtures.array("control_image_hwc.npy"));
        assertThat(control.width()).isEqualTo(64);
        assertThat(control.pixels()).containsExactly(expected.array());
    }

    @Test
    void controlNetMatchesDiffusers(TestReporter reporter) {
        Map<String, Object> c = TinyFixtures.testCase(CASE);
        float scale = ((Number) c.get("conditioning_scale")).floatValue();
        GenerationResult result = run(caseRequest(), List.of(controlnet("scale", scale)));

        Parity parity = Parity.ofCase(result, c);
        parity.report(reporter, CASE, "unet-controlnet", result);
        parity.assertWithin(1e-4, 1e-3);
        assertThat(result.provenance().get("controlnet.0.model"))
                .isEqualTo(TinyFixtures.model("controlnet").resolve("model.onnx").toAbsolutePath().normalize()
                        .toString());
        assertThat(result.provenance().entries()).containsEntry("controlnet.0.scale", Double.toString(scale))
                .containsEntry("controlnet.0.start", "0.0").containsEntry("controlnet.0.end", "1.0")
                .containsEntry("controlnet.0.guess_mode", "false").containsEntry("controlnet.0.preprocess", "none");
        assertThat(result.provenance().get("plugins")).contains("controlnet=controlnet@0.1.0");
    }

    @Test
    void aResidualUnetWithoutControlNetGetsZerosWhichIsAZeroScaleControlNet() {
        GenerationResult none = controlUnet.generate(caseRequest().build());
        GenerationResult zero = run(caseRequest(), List.of(controlnet("scale", 0.0)));
        GenerationResult full = run(caseRequest(), List.of(controlnet("scale", 0.8)));
        assertThat(none.provenance().get("controlnet.residuals")).startsWith("zeros (no --controlnet)");
        assertThat(TinyFixtures.maxAbsError(zero.latents(), none.latents())).isZero();
        assertThat(TinyFixtures.maxAbsError(full.latents(), none.latents())).isGreaterThan(1e-3);
    }

    @Test
    void aControlNetActiveOnNoStepEqualsNoControlNetAndAWindowActsPartly() {
        GenerationResult none = controlUnet.generate(caseRequest().build());
        // 8 steps: step i acts only when i / 8 >= 0.99, never
        GenerationResult never = run(caseRequest(), List.of(controlnet("scale", 0.8, "start", 0.99, "end", 1.0)));
        assertThat(never.latents().array()).containsExactly(none.latents().array());

        GenerationResult full = run(caseRequest(), List.of(controlnet("scale", 0.8)));
        GenerationResult firstHalf = run(caseRequest(), List.of(controlnet("scale", 0.8, "end", 0.5)));
        assertThat(TinyFixtures.maxAbsError(firstHalf.latents(), none.latents())).isGreaterThan(1e-4);
        assertThat(TinyFixtures.maxAbsError(firstHalf.latents(), full.latents())).isGreaterThan(1e-4);
        assertThat(firstHalf.provenance().get("controlnet.0.end")).isEqualTo("0.5");
    }

    @Test
    void guessModeRunsAndDiffersFromNormalMode() {
        GenerationResult normal = run(caseRequest(), List.of(controlnet("scale", 0.8)));
        GenerationResult guess = run(caseRequest(), List.of(controlnet("scale", 0.8, "guess_mode", true)));
        GenerationResult none = controlUnet.generate(caseRequest().build());
        for (float v : guess.latents().array()) {
            assertThat(Float.isFinite(v)).isTrue();
        }
        assertThat(TinyFixtures.maxAbsError(guess.latents(), normal.latents())).isGreaterThan(1e-4);
        assertThat(TinyFixtures.maxAbsError(guess.latents(), none.latents())).isGreaterThan(1e-4);
        assertThat(guess.provenance().get("controlnet.0.guess_mode")).isEqualTo("true");

        // without classifier-free guidance guess mode still scales the residuals (diffusers' ControlNetModel)
        GenerationResult single = run(caseRequest().optGuidanceScale(1.0),
                List.of(controlnet("scale", 0.8, "guess_mode", true)));
        GenerationResult singleNormal = run(caseRequest().optGuidanceScale(1.0), List.of(controlnet("scale", 0.8)));
        assertThat(TinyFixtures.maxAbsError(single.latents(), singleNormal.latents())).isGreaterThan(1e-4);
    }

    @Test
    void twoControlNetsAreSummed(TestReporter reporter) {
        // the residuals are linear in the scale: 0.3 and 0.5 sum to one at 0.8, up to float rounding
        GenerationResult one = run(caseRequest(), List.of(controlnet("scale", 0.8)));
        GenerationResult two = run(caseRequest(), List.of(controlnet("scale", 0.3), controlnet("scale", 0.5)));
        GenerationResult first = run(caseRequest(), List.of(controlnet("scale", 0.3)));
        double rel = TinyFixtures.relativeError(two.latents(), one.latents());
        reporter.publishEntry(String.format(Locale.ROOT,
                "two ControlNets at 0.3 + 0.5 vs one at 0.8: latents rel %.3e", rel));
        assertThat(rel).isLessThan(1e-4);
        assertThat(TinyFixtures.maxAbsError(two.latents(), first.latents())).isGreaterThan(1e-3);
        assertThat(two.provenance().entries()).containsKeys("controlnet.0.model", "controlnet.1.model");
    }

    @Test
    void controlNetComposesWithTextAndAnotherScheduler() {
        List<GenerationResult> results = new ArrayList<>();
        for (String scheduler : List.of("EulerDiscreteScheduler", "DPMSolverMultistepScheduler")) {
            GenerationRequest.Builder request = GenerationRequest.builder().setPrompt("a blue square in the top left corner")
                    .optSteps(6).optSeed(3).optScheduler(scheduler);
            GenerationResult with = run(request, List.of(controlnet("scale", 1.0)));
            GenerationResult without = controlUnet.generate(GenerationRequest.builder()
                    .setPrompt("a blue square in the top left corner").optSteps(6).optSeed(3).optScheduler(scheduler)
                    .build());
            assertThat(with.provenance().get("scheduler")).isEqualTo(scheduler);
            assertThat(TinyFixtures.maxAbsError(with.latents(), without.latents())).as(scheduler)
                    .isGreaterThan(1e-3);
            results.add(with);
        }
        assertThat(TinyFixtures.maxAbsError(results.get(0).latents(), results.get(1).latents())).isGreaterThan(1e-3);
    }

    @Test
    void cannyPreprocessingAndResizingRun() {
        // the control image at half size: resized to 64x64, then Canny edges
        float[] half = new float[32 * 32 * 3];
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                for (int c = 0; c < 3; c++) {
                    half[(y * 32 + x) * 3 + c] = control.get(2 * x, 2 * y, c);
                }
            }
        }
        GenerationResult canny = run(caseRequest(), List.of(controlnet("image", new RgbImage(32, 32, half),
                "preprocess", "canny")));
        GenerationResult plain = run(caseRequest(), List.of(controlnet()));
        assertThat(canny.provenance().entries()).containsEntry("controlnet.0.preprocess", "canny")
                .containsEntry("controlnet.0.image", "32x32 resized (bilinear) to 64x64");
        assertThat(TinyFixtures.maxAbsError(canny.latents(), plain.latents())).isGreaterThan(1e-4);
    }

    @Test
    void aControlNetWithAPlainUnetIsRefused() {
        Path unet = TinyFixtures.model("sd-tiny").resolve("unet/model.onnx");
        assertThatThrownBy(() -> sdTiny.generate(caseRequest().optParameter("controlnets", List.of(controlnet()))
                .build()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--controlnet needs a UNet with ControlNet residual inputs "
                        + "(down_block_0_additional_residual ...); ")
                .hasMessageContaining(unet.getFileName().toString())
                .hasMessageEndingWith(" has none");
    }

    @Test
    void badControlNetSettingsAreRefusedBeforeAnyStep() {
        List<Integer> steps = new ArrayList<>();
        assertThatThrownBy(() -> run(caseRequest().optBeforeStep(s -> steps.add(s.stepIndex())),
                List.of(controlnet("start", 0.5, "end", 0.5))))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--control-start 0.5 and --control-end 0.5");
        assertThatThrownBy(() -> run(caseRequest(), List.of(controlnet("model", temp.resolve("no-such-controlnet")))))
                .hasMessageContaining("no-such-controlnet");
        assertThat(steps).isEmpty();
    }
}
