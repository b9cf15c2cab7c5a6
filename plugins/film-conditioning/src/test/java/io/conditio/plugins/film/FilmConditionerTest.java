package io.conditio.plugins.film;

import static io.conditio.core.testing.FakeConditioningContext.cfg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.Conditioning;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.LongTensor;
import io.conditio.api.Model;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import io.conditio.core.testing.FakeConditioningContext;
import io.conditio.core.testing.FakeModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The film conditioner's request handling against UNet metadata (no ONNX model is run). */
class FilmConditionerTest {
    private static final TensorSpec SAMPLE = new TensorSpec("sample", ElementType.FLOAT32, new long[] {-1, 4, -1, -1});
    private static final TensorSpec CLASS = new TensorSpec("class_labels", ElementType.INT64, new long[] {-1});
    private static final TensorSpec TIME_IDS = new TensorSpec("time_ids", ElementType.FLOAT32, new long[] {-1, 6});

    @TempDir
    Path dir;

    private final FilmConditioner conditioner = new FilmConditioner();

    private Path unetFile(String config) throws IOException {
        Path unet = Files.createDirectories(dir.resolve("unet"));
        Path file = Files.writeString(unet.resolve("model.onnx"), "not a model");
        if (config != null) {
            Files.writeString(unet.resolve("config.json"), config);
        }
        return file;
    }

    private Optional<Conditioning> prepare(Model unet, GenerationRequest.Builder request, List<GuidanceBranch> b) {
        return conditioner.prepare(new FakeConditioningContext(request.build(), unet, b));
    }

    /** A UNet that is only metadata: these inputs, and the config.json beside its file. */
    private static Model unet(Path file, TensorSpec... inputs) {
        return new FakeModel("unet", file).in(inputs);
    }

    private static Map<String, Tensor> contribute(Conditioning c, int batch) {
        Recorder r = new Recorder(batch);
        c.contribute(null, r);
        return r.values;
    }

    @Test
    void classLabelsGoToTheConditionalBranchAndTheNullClassComesFromTheConfig() throws IOException {
        Model unet = unet(unetFile("{\n  \"class_embed_type\": null,\n  \"num_class_embeds\": 10,\n"
                + "  \"cross_attention_dim\": 32\n}"), SAMPLE, CLASS);
        Conditioning c = prepare(unet, GenerationRequest.builder().optParameter("class_label", 3),
                cfg()).orElseThrow();
        assertThat(c.provides()).containsExactly(UnetInputDeclaration.input("class_labels", ElementType.INT64,
                new int[] {2}, "--class-label (film-conditioning)"));
        LongTensor labels = (LongTensor) contribute(c, 2).get("class_labels");
        assertThat(labels.array()).containsExactly(9L, 3L);
        assertThat(c.provenance()).containsEntry("class_label", "3").containsEntry("null_class_label", "9");
    }

    @Test
    void anExplicitNullClassWins() throws IOException {
        Model unet = unet(unetFile("{\"num_class_embeds\": 10}"), SAMPLE, CLASS);
        Conditioning c = prepare(unet, GenerationRequest.builder().optParameter("class_label", 3L)
                .optParameter("null_class_label", 0), cfg()).orElseThrow();
        assertThat(((LongTensor) contribute(c, 2).get("class_labels")).array()).containsExactly(0L, 3L);
    }

    @Test
    void withoutAClassLabelEveryBranchGetsTheNullClass() throws IOException {
        Model unet = unet(unetFile("{\"num_class_embeds\": 10}"), SAMPLE, CLASS);
        Conditioning c = prepare(unet, GenerationRequest.builder(), cfg()).orElseThrow();
        assertThat(((LongTensor) contribute(c, 2).get("class_labels")).array()).containsExactly(9L, 9L);
        assertThat(c.provenance()).containsEntry("class_label", "none (null class 9)");
    }

    @Test
    void aClassUnetWithoutClassLabelOrKnownNullClassAsksForTheFlag() throws IOException {
        Model unet = unet(unetFile(null), SAMPLE, CLASS);
        assertThatThrownBy(() -> prepare(unet, GenerationRequest.builder(), cfg()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--class-label")
                .hasMessageContaining("--null-class-label");
    }

    @Test
    void aClassLabelForAPlainUnetIsRefused() throws IOException {
        Path file = unetFile(null);
        Model unet = unet(file, SAMPLE);
        assertThatThrownBy(() -> prepare(unet, GenerationRequest.builder().optParameter("class_label", 1),
                cfg()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("--class-label needs a UNet with a class_labels input; " + file + " has none");
    }

    @Test
    void aLabelOutOfRangeNamesTheRange() throws IOException {
        Model unet = unet(unetFile("{\"num_class_embeds\": 10}"), SAMPLE, CLASS);
        assertThatThrownBy(() -> prepare(unet, GenerationRequest.builder().optParameter("class_label", 10),
                cfg()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--class-label 10 is out of range")
                .hasMessageContaining("10 classes, 0 to 9");
        assertThatThrownBy(() -> prepare(unet, GenerationRequest.builder().optParameter("class_label", 1)
                .optParameter("null_class_label", -1), cfg()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--null-class-label -1 is out of range");
    }

    @Test
    void anUnknownClassCountNeedsAnExplicitNullClassOnlyWhenGuidanceDropsTheClass() throws IOException {
        Model unet = unet(unetFile(null), SAMPLE, CLASS);
        assertThatThrownBy(() -> prepare(unet, GenerationRequest.builder().optParameter("class_label", 1),
                cfg()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("pass null_class_label (--null-class-label)");
        Conditioning single = prepare(unet, GenerationRequest.builder().optParameter("class_label", 1),
                List.of(GuidanceBranch.CONDITIONAL)).orElseThrow();
        assertThat(((LongTensor) contribute(single, 1).get("class_labels")).array()).containsExactly(1L);
    }

    @Test
    void aNonIntegerLabelIsRefused() throws IOException {
        Model unet = unet(unetFile("{\"num_class_embeds\": 10}"), SAMPLE, CLASS);
        assertThatThrownBy(() -> prepare(unet, GenerationRequest.builder().optParameter("class_label", 2.5),
                cfg()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("must be an integer");
    }

    @Test
    void timeIdsAreTheSameForEveryBranch() throws IOException {
        Model unet = unet(unetFile(null), SAMPLE, TIME_IDS);
        Conditioning c = prepare(unet, GenerationRequest.builder().optSize(96, 64)
                .optParameter("crops_coords_top_left", List.of(4, 8)), cfg()).orElseThrow();
        FloatTensor ids = (FloatTensor) contribute(c, 2).get("time_ids");
        assertThat(ids.shape()).containsExactly(2, 6);
        assertThat(ids.array()).containsExactly(64, 96, 4, 8, 64, 96, 64, 96, 4, 8, 64, 96);
        assertThat(c.provenance()).containsEntry("time_ids", "[64, 96, 4, 8, 64, 96]");
    }

    @Test
    void sizeConditionsForANonXlUnetAreRefused() throws IOException {
        Path file = unetFile(null);
        Model unet = unet(file, SAMPLE);
        assertThatThrownBy(() -> prepare(unet, GenerationRequest.builder()
                .optParameter("original_size", List.of(1024, 1024)), cfg()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("original_size")
                .hasMessageContaining("time_ids")
                .hasMessageContaining(file.toString());
    }

    @Test
    void timestepCondIsTheGuidanceEmbeddingRepeatedPerBatchEntry() throws IOException {
        TensorSpec cond = new TensorSpec("timestep_cond", ElementType.FLOAT32, new long[] {-1, 8});
        Model unet = unet(unetFile(null), SAMPLE, cond);
        Conditioning c = prepare(unet, GenerationRequest.builder().optGuidanceScale(8.5), cfg())
                .orElseThrow();
        FloatTensor t = (FloatTensor) contribute(c, 2).get("timestep_cond");
        float[] row = GuidanceScaleEmbedding.embed(7.5f, 8);
        assertThat(t.shape()).containsExactly(2, 8);
        assertThat(t.batchEntry(0).array()).containsExactly(row);
        assertThat(t.batchEntry(1).array()).containsExactly(row);

        Conditioning lcm = prepare(unet, GenerationRequest.builder().optGuidanceScale(1.0)
                .optParameter("guidance_embedding_scale", 8.5), List.of(GuidanceBranch.CONDITIONAL)).orElseThrow();
        assertThat(((FloatTensor) contribute(lcm, 1).get("timestep_cond")).array()).containsExactly(row);
    }

    @Test
    void aDynamicEmbeddingSizeIsReadFromTheConfig() throws IOException {
        TensorSpec cond = new TensorSpec("timestep_cond", ElementType.FLOAT32, new long[] {-1, -1});
        Model unet = unet(unetFile("{\"time_cond_proj_dim\": 256}"), SAMPLE, cond);
        Conditioning c = prepare(unet, GenerationRequest.builder().optGuidanceScale(1.0),
                List.of(GuidanceBranch.CONDITIONAL)).orElseThrow();
        assertThat(contribute(c, 1).get("timestep_cond").shape()).containsExactly(1, 256);
    }

    @Test
    void aPlainUnetWithoutParametersIsNotConditioned() throws IOException {
        Model unet = unet(unetFile(null), SAMPLE);
        assertThat(prepare(unet, GenerationRequest.builder(), cfg())).isEmpty();
    }

    /** Records what a conditioning puts. */
    private static final class Recorder implements UnetInputs {
        final Map<String, Tensor> values = new LinkedHashMap<>();
        private final int batch;

        Recorder(int batch) {
            this.batch = batch;
        }

        @Override
        public FloatTensor sample() {
            return FloatTensor.zeros(batch, 4, 8, 8);
        }

        @Override
        public int batchSize() {
            return batch;
        }

        @Override
        public void put(String name, Tensor value) {
            assertThat(values.put(name, value)).as("%s set once", name).isNull();
        }

        @Override
        public void appendChannels(FloatTensor channels) {
            throw new AssertionError("no channels expected");
        }

        @Override
        public void addResidual(String name, FloatTensor value) {
            throw new AssertionError("no residuals expected");
        }

        @Override
        public Optional<Tensor> get(String name) {
            return Optional.ofNullable(values.get(name));
        }
    }

}
