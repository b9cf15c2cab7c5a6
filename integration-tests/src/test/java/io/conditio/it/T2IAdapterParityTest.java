package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.core.image.PngImages;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The t2i-adapter plugin, loaded by PF4J from the built jars, on the shipped shapes model, against the torch
 * reference with diffusers' semantics ({@code tools/shapes-model/t2i_adapter_reference.py}, fixture arrays in
 * {@code t2i-adapter-parity/}): one adapter scaled, and two adapters summed with their own scales acting on the
 * first half of the steps ({@code adapter_conditioning_factor} 0.5); latents within 1e-4 × max(1, max|expected|),
 * image within 1e-3, as the ControlNet parity case.
 */
@ExtendWith(ConditioExtension.class)
class T2IAdapterParityTest {
    @Model(Model.SHAPES)
    private static Pipeline shapes;

    static Path fixture(String file) {
        return TinyFixtures.resource("t2i-adapter-parity/" + file);
    }

    static Map<String, Object> adapter(String png, double scale, double factor) {
        return Map.of("model", ShapesModelTest.modelDir().resolve("t2i-adapter"), "image",
                PngImages.read(fixture(png)), "scale", scale, "factor", factor);
    }

    static GenerationResult run(String prompt, int seed, List<Map<String, Object>> adapters) {
        GenerationRequest.Builder b = GenerationRequest.builder().setPrompt(prompt).optSeed(seed).optSteps(10)
                .optGuidanceScale(3.0);
        if (!adapters.isEmpty()) {
            b.optParameter("t2i_adapters", adapters);
        }
        return shapes.generate(b.build());
    }

    private static void compare(String name, GenerationResult result, TestReporter reporter) {
        Parity parity = Parity.of(result, fixture(name + "_latents.npy"), fixture(name + "_image.npy"));
        reporter.publishEntry(String.format(Locale.ROOT,
                "PARITY t2i-adapter %-22s latents max abs %.3e rel %.3e | image max abs %.3e",
                name, parity.latentAbs(), parity.latentRel(), parity.imageAbs()));
        parity.assertWithin(1e-4, 1e-3);
    }

    @Test
    void oneAdapterMatchesTheTorchReference(TestReporter reporter) {
        GenerationResult r = run("a red circle", 11, List.of(adapter("sketch_circle.png", 0.8, 1.0)));
        compare("one_adapter", r, reporter);
        assertThat(r.provenance().get("unet")).isEqualTo("unet-adapter");
    }

    @Test
    void twoAdaptersSummedForHalfTheStepsMatchTheTorchReference(TestReporter reporter) {
        compare("two_adapters_factor", run("a blue square", 12, List.of(adapter("sketch_circle.png", 0.7, 0.5),
                adapter("sketch_square.png", 0.5, 0.5))), reporter);
    }

    @Test
    void theFactorAndTheScaleChangeTheResult() {
        List<Map<String, Object>> none = List.of();
        GenerationResult plain = run("a red circle", 11, none);
        GenerationResult full = run("a red circle", 11, List.of(adapter("sketch_circle.png", 0.8, 1.0)));
        GenerationResult zeroFactor = run("a red circle", 11, List.of(adapter("sketch_circle.png", 0.8, 0.0)));
        GenerationResult half = run("a red circle", 11, List.of(adapter("sketch_circle.png", 0.8, 0.5)));
        // factor 0: the adapter never acts, the UNet gets zeros: the plain UNet's result
        assertThat(TinyFixtures.maxAbsError(zeroFactor.latents(), plain.latents())).isLessThan(1e-4);
        assertThat(TinyFixtures.maxAbsError(half.latents(), full.latents())).isGreaterThan(1e-3);
        assertThat(TinyFixtures.maxAbsError(half.latents(), plain.latents())).isGreaterThan(1e-3);
    }

    @Test
    void errorsSayWhatIsWrong() {
        assertThatThrownBy(() -> run("a red circle", 1, List.of(Map.of("model",
                ShapesModelTest.modelDir().resolve("t2i-adapter"), "image", PngImages.read(fixture("sketch_circle.png")),
                "factor", 1.5))))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("t2i_adapters' item 0 field 'factor' must be in [0, 1], got 1.5");
        List<Map<String, Object>> bad = new ArrayList<>();
        bad.add(Map.of("model", ShapesModelTest.modelDir().resolve("t2i-adapter"), "image",
                PngImages.read(fixture("sketch_circle.png")), "preprocess", "no-such-thing"));
        assertThatThrownBy(() -> run("a red circle", 1, bad))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("unknown --control-preprocess 'no-such-thing'")
                .hasMessageContaining("canny").hasMessageContaining("scribble").hasMessageContaining("depth");
        assertThatThrownBy(() -> run("a red circle", 1, List.of(Map.of("model",
                ShapesModelTest.modelDir().resolve("controlnet"), "image",
                PngImages.read(fixture("sketch_circle.png"))))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("T2I-Adapter");
    }
}
