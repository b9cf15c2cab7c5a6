package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.core.Conditio;
import io.conditio.core.npy.Npy;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The film-conditioning plugin, loaded by PF4J from the built jars: class labels on {@code unet-class}
 * ({@code class_euler}) and SDXL size conditions on {@code unet-xl} ({@code xl_euler}, with precomputed prompt
 * embeddings through the text-conditioning plugin). Both UNets take an int64 timestep and the cases use Euler's
 * fractional timesteps, so the fixture README's tolerance is 1e-2 (relative on latents, absolute on images).
 */
@ExtendWith(ConditioExtension.class)
class FilmConditioningParityTest {
    private static final double TOLERANCE = 1e-2;

    @TempDir
    static Path temp;

    private static Pipeline classUnet;
    private static Pipeline xlUnet;
    private static Pipeline sdTiny;

    @BeforeAll
    static void open(Conditio conditio, @Model("sd-tiny") Pipeline sdTinyFixture) {
        classUnet = conditio.open(ControlNetParityTest.withUnet(temp.resolve("unet-class"),
                TinyFixtures.model("unet-class").resolve("model.onnx")));
        xlUnet = conditio.open(ControlNetParityTest.withUnet(temp.resolve("unet-xl"),
                TinyFixtures.model("unet-xl").resolve("model.onnx")));
        sdTiny = sdTinyFixture;
    }

    @AfterAll
    static void close() {
        for (Pipeline p : new Pipeline[] {xlUnet, classUnet}) {
            if (p != null) {
                p.close();
            }
        }
    }

    private static void checkParity(String caseName, String unet, GenerationResult result, TestReporter reporter) {
        Parity parity = Parity.ofCase(result, TinyFixtures.testCase(caseName));
        parity.report(reporter, caseName, unet, result);
        parity.assertWithin(TOLERANCE, TOLERANCE);
        assertThat(result.provenance().get("scheduler")).isEqualTo("EulerDiscreteScheduler");
    }

    private static GenerationRequest.Builder classRequest() {
        Map<String, Object> c = TinyFixtures.testCase("class_euler");
        return TinyFixtures.sizedCaseRequest(c).optParameter("class_label", ((Number) c.get("class_label")).longValue());
    }

    @Test
    void classLabelsMatchDiffusers(TestReporter reporter) {
        Map<String, Object> c = TinyFixtures.testCase("class_euler");
        GenerationResult result = classUnet.generate(classRequest()
                .optParameter("null_class_label", ((Number) c.get("null_class_label")).intValue()).build());
        checkParity("class_euler", "unet-class", result, reporter);
        assertThat(result.provenance().entries()).containsEntry("film.class_label", "3")
                .containsEntry("film.null_class_label", "9");
        assertThat(result.provenance().get("plugins")).contains("film=film-conditioning@0.1.0");
    }

    @Test
    void theNullClassDefaultsToTheLastClassOfTheUnetConfig() {
        // unet/model.onnx is a link; the config.json beside its target says num_class_embeds 10
        GenerationResult explicit = classUnet.generate(classRequest().optParameter("null_class_label", 9).build());
        GenerationResult defaulted = classUnet.generate(classRequest().build());
        assertThat(defaulted.provenance().get("film.null_class_label")).isEqualTo("9");
        assertThat(defaulted.latents().array()).containsExactly(explicit.latents().array());
        GenerationResult otherClass = classUnet.generate(classRequest().optParameter("class_label", 5).build());
        assertThat(TinyFixtures.maxAbsError(otherClass.latents(), defaulted.latents())).isGreaterThan(1e-3);
    }

    @Test
    void aClassLabelForAUnetWithoutClassesIsRefused() {
        assertThatThrownBy(() -> sdTiny.generate(GenerationRequest.builder().setPrompt("a red circle").optSteps(2)
                .optParameter("class_label", 3).build()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageStartingWith("--class-label needs a UNet with a class_labels input; ")
                .hasMessageContaining(Path.of("sd-tiny", "unet", "model.onnx").toString())
                .hasMessageEndingWith(" has none");
    }

    @Test
    void withoutAClassLabelEveryBranchGetsTheNullClass() {
        GenerationResult none = classUnet.generate(TinyFixtures.sizedCaseRequest(TinyFixtures.testCase("class_euler")).build());
        GenerationResult nullClass = classUnet.generate(TinyFixtures.sizedCaseRequest(TinyFixtures.testCase("class_euler"))
                .optParameter("class_label", 9).optParameter("null_class_label", 9).build());
        assertThat(none.latents().array()).containsExactly(nullClass.latents().array());
        assertThat(none.provenance().get("film.class_label")).isEqualTo("none (null class 9)");
    }

    @Test
    void aClassLabelOutOfRangeNamesTheRange() {
        assertThatThrownBy(() -> classUnet.generate(classRequest().optParameter("class_label", 10).build()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--class-label 10 is out of range")
                .hasMessageContaining("0 to 9");
    }

    private static GenerationRequest.Builder xlRequest() {
        Map<String, Object> c = TinyFixtures.testCase("xl_euler");
        FloatTensor hidden = Npy.readFloat(TinyFixtures.array((String) c.get("encoder_hidden_states")));
        FloatTensor pooled = Npy.readFloat(TinyFixtures.array((String) c.get("text_embeds")));
        assertThat(c.get("uncond")).isEqualTo("zeros");
        return TinyFixtures.sizedCaseRequest(c)
                .optParameter("prompt_embeds", hidden)
                .optParameter("negative_prompt_embeds", FloatTensor.zeros(hidden.shape()))
                .optParameter("pooled_prompt_embeds", pooled)
                .optParameter("negative_pooled_prompt_embeds", FloatTensor.zeros(pooled.shape()));
    }

    @Test
    void sdxlAddedConditionsMatchDiffusers(TestReporter reporter) {
        GenerationResult result = xlUnet.generate(xlRequest().build());
        checkParity("xl_euler", "unet-xl", result, reporter);
        FloatTensor timeIds = Npy.readFloat(TinyFixtures.array("xl_time_ids.npy"));
        assertThat(timeIds.array()).containsExactly(64, 64, 0, 0, 64, 64);
        assertThat(result.provenance().get("film.time_ids")).isEqualTo("[64, 64, 0, 0, 64, 64]");
    }

    @Test
    void sizeConditionsReachTheUnet() {
        GenerationResult defaults = xlUnet.generate(xlRequest().build());
        GenerationResult explicit = xlUnet.generate(xlRequest().optParameter("original_size", List.of(64, 64))
                .optParameter("crops_coords_top_left", List.of(0, 0)).optParameter("target_size", List.of(64, 64))
                .build());
        assertThat(explicit.latents().array()).containsExactly(defaults.latents().array());
        GenerationResult upscaled = xlUnet.generate(xlRequest().optParameter("original_size", List.of(1024, 768))
                .optParameter("crops_coords_top_left", List.of(16, 32)).build());
        assertThat(upscaled.provenance().get("film.time_ids")).isEqualTo("[1024, 768, 16, 32, 64, 64]");
        assertThat(TinyFixtures.maxAbsError(upscaled.latents(), defaults.latents())).isGreaterThan(1e-4);
    }

    @Test
    void sizeConditionsForANonXlUnetAreRefused() {
        assertThatThrownBy(() -> sdTiny.generate(GenerationRequest.builder().setPrompt("a red circle").optSteps(2)
                .optParameter("original_size", List.of(1024, 1024)).build()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("original_size")
                .hasMessageContaining("time_ids");
    }
}
