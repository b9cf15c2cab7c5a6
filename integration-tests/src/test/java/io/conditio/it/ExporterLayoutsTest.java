package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.LongTensor;
import io.conditio.api.ModelInputException;
import io.conditio.api.Tensor;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.onnx.Binding;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.tokenizer.ClipTokenizer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The two exporters' conventions (onnx-conventions.md), read from the model metadata: the runtime adapts to each and
 * both give the same numbers.
 */
class ExporterLayoutsTest {

    @Test
    void metadataIsReadFromTheFilesNotAssumed() {
        try (ModelFolder optimum = ModelFolder.open(TinyFixtures.model("sd-tiny"));
                ModelFolder legacy = ModelFolder.open(TinyFixtures.model("sd-tiny-legacy"))) {
            assertThat(optimum.model("unet").inputs().get("timestep").elementType()).isEqualTo(ElementType.INT64);
            assertThat(optimum.model("unet").inputs().get("timestep").rank()).isZero();
            assertThat(legacy.model("unet").inputs().get("timestep").elementType()).isEqualTo(ElementType.FLOAT32);
            assertThat(legacy.model("unet").inputs().get("timestep").rank()).isEqualTo(1);
            assertThat(optimum.model("text_encoder").inputs().get("input_ids").elementType())
                    .isEqualTo(ElementType.INT64);
            assertThat(legacy.model("text_encoder").inputs().get("input_ids").elementType())
                    .isEqualTo(ElementType.INT32);
            assertThat(optimum.has("vae_encoder")).isTrue();
            assertThat(legacy.has("vae_encoder")).isFalse();
            assertThat(optimum.vaeScalingFactor()).isEqualTo(0.18215);
            assertThat(optimum.vaeSpatialFactor()).isEqualTo(8);
            assertThat(optimum.unetSampleSize()).isEqualTo(8);
            assertThat(optimum.latentChannels()).isEqualTo(4);
            assertThat(optimum.model("unet").config().integer("sample_size")).hasValue(8L);
            assertThat(optimum.model("unet").config().integers("block_out_channels")).contains(List.of(16, 32, 32));
            assertThat(optimum.model("text_encoder").config().number("layer_norm_eps")).hasValue(1e-5);
        }
    }

    @Test
    void int64AndInt32TokenIdsGiveTheSameEmbeddings() {
        try (ModelFolder optimum = ModelFolder.open(TinyFixtures.model("sd-tiny"));
                ModelFolder legacy = ModelFolder.open(TinyFixtures.model("sd-tiny-legacy"))) {
            ClipTokenizer tokenizer = optimum.tokenizer("tokenizer").orElseThrow();
            LongTensor ids = LongTensor.of(tokenizer.encode("a red circle on a white background"), 1, 77);
            FloatTensor a = (FloatTensor) optimum.model("text_encoder").run(Map.of("input_ids", ids))
                    .get("last_hidden_state");
            FloatTensor b = (FloatTensor) legacy.model("text_encoder").run(Map.of("input_ids", ids))
                    .get("last_hidden_state");
            assertThat(a.shape()).containsExactly(1, 77, 32);
            assertThat(TinyFixtures.maxAbsError(a, b)).isLessThan(1e-5);
        }
    }

    @Test
    void aScalarInt64TimestepAndAFloatVectorTimestepGiveTheSameUnetOutput() {
        try (ModelFolder optimum = ModelFolder.open(TinyFixtures.model("sd-tiny"));
                ModelFolder legacy = ModelFolder.open(TinyFixtures.model("sd-tiny-legacy"))) {
            Map<String, Tensor> feed = Map.of(
                    "sample", FloatTensor.full(0.5f, 2, 4, 8, 8),
                    "timestep", FloatTensor.full(501f, 2),
                    "encoder_hidden_states", FloatTensor.full(0.1f, 2, 77, 32));
            FloatTensor a = (FloatTensor) optimum.model("unet").run(feed).get("out_sample");
            FloatTensor b = (FloatTensor) legacy.model("unet").run(feed).get("out_sample");
            assertThat(a.shape()).containsExactly(2, 4, 8, 8);
            assertThat(TinyFixtures.maxAbsError(a, b)).isLessThan(1e-4);
        }
    }

    @Test
    void aFractionalTimestepIsTruncatedTowardZeroForAnInt64Input() {
        try (ModelFolder optimum = ModelFolder.open(TinyFixtures.model("sd-tiny"))) {
            OnnxModel unet = optimum.model("unet");
            Map<String, Tensor> base = Map.of("sample", FloatTensor.full(0.5f, 1, 4, 8, 8),
                    "timestep", FloatTensor.full(856.9f, 1), "encoder_hidden_states", FloatTensor.full(0.1f, 1, 77, 32));
            FloatTensor fractional = (FloatTensor) unet.run(base).get("out_sample");
            FloatTensor whole = (FloatTensor) unet.run(Map.of("sample", base.get("sample"),
                    "timestep", LongTensor.scalar(856), "encoder_hidden_states", base.get("encoder_hidden_states")))
                    .get("out_sample");
            assertThat(fractional.array()).containsExactly(whole.array());
        }
    }

    @Test
    void aWrongShapeNamesTheModelTheInputAndBothShapes() {
        try (ModelFolder optimum = ModelFolder.open(TinyFixtures.model("sd-tiny"))) {
            OnnxModel unet = optimum.model("unet");
            assertThatThrownBy(() -> unet.run(Map.of("sample", FloatTensor.zeros(1, 4, 8),
                    "timestep", LongTensor.scalar(1), "encoder_hidden_states", FloatTensor.zeros(1, 77, 32))))
                    .isInstanceOf(ModelInputException.class)
                    .hasMessageContaining("unet").hasMessageContaining("'sample'")
                    .hasMessageContaining("sample float32 [?, 4, ?, ?]").hasMessageContaining("[1, 4, 8]");
        }
    }

    @Test
    void aMissingInputIsNamedWithWhatTheModelDeclares() {
        try (ModelFolder optimum = ModelFolder.open(TinyFixtures.model("sd-tiny"))) {
            assertThatThrownBy(() -> optimum.model("unet").run(Map.of("sample", FloatTensor.zeros(1, 4, 8, 8))))
                    .isInstanceOf(ModelInputException.class)
                    .hasMessageContaining("missing input 'timestep'")
                    .hasMessageContaining("missing input 'encoder_hidden_states'");
        }
    }

    @Test
    void aBindingReusesItsNativeBuffersAndGivesWhatAPlainRunGives() {
        try (ModelFolder optimum = ModelFolder.open(TinyFixtures.model("sd-tiny"))) {
            OnnxModel unet = optimum.model("unet");
            try (Binding binding = unet.bind()) {
                for (int i = 0; i < 3; i++) {
                    Map<String, Tensor> feed = Map.of("sample", FloatTensor.full(0.1f * i, 2, 4, 8, 8),
                            "timestep", FloatTensor.full(900f - 100 * i, 2),
                            "encoder_hidden_states", FloatTensor.full(0.2f, 2, 77, 32));
                    FloatTensor bound = (FloatTensor) binding.run(feed).get("out_sample");
                    FloatTensor plain = (FloatTensor) unet.run(feed).get("out_sample");
                    assertThat(bound.array()).containsExactly(plain.array());
                    // sample, timestep, encoder_hidden_states in; out_sample pinned after the first call
                    assertThat(binding.buffers()).isEqualTo(4);
                }
                FloatTensor other = (FloatTensor) binding.run(Map.of("sample", FloatTensor.full(0.3f, 1, 4, 8, 12),
                        "timestep", FloatTensor.full(500f, 1), "encoder_hidden_states",
                        FloatTensor.full(0.2f, 1, 77, 32))).get("out_sample");
                assertThat(other.shape()).as("a new shape re-binds").containsExactly(1, 4, 8, 12);
            }
        }
    }

    @Test
    void aClosedModelSaysSo() {
        OnnxModel unet;
        try (ModelFolder optimum = ModelFolder.open(TinyFixtures.model("sd-tiny"))) {
            unet = optimum.model("unet");
        }
        assertThatThrownBy(() -> unet.run(Map.of())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }
}
