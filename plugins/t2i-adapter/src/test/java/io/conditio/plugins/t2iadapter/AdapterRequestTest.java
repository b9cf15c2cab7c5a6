package io.conditio.plugins.t2iadapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Request parsing, the factor's step rule and the small tensor helpers of the t2i-adapter plugin. */
class AdapterRequestTest {
    private static final RgbImage IMAGE = new RgbImage(2, 2, new float[12]);

    @Test
    void defaultsAreScaleOneFactorOneAndNoPreprocessing() {
        AdapterRequest r = AdapterRequest.parse(List.of(Map.of("model", "/m/adapter", "image", IMAGE))).get(0);
        assertThat(r.model()).isEqualTo(Path.of("/m/adapter"));
        assertThat(r.scale()).isEqualTo(1.0);
        assertThat(r.factor()).isEqualTo(1.0);
        assertThat(r.preprocess()).isEqualTo("none");
        assertThat(r.preprocessModels()).isEmpty();
    }

    @Test
    void withAdaptersTheConditionerAsksForTheUnetVariantThatTakesTheirFeatures() {
        T2IAdapterConditioner c = new T2IAdapterConditioner();
        GenerationRequest with = GenerationRequest.builder().optParameter("t2i_adapters",
                List.of(Map.of("model", "/m", "image", IMAGE))).build();
        assertThat(c.unetVariant(with)).hasValueSatisfying(v -> {
            assertThat(v.folder()).isEqualTo("unet-adapter");
            assertThat(v.supplies("down_intrablock_additional_residual_1")).isTrue();
            assertThat(v.supplies("mid_block_additional_residual")).isFalse();
        });
        assertThat(c.unetVariant(GenerationRequest.builder().optParameter("t2i_adapters", List.of()).build()))
                .isEmpty();
    }

    @Test
    void theFactorActsWhileTheStepIsBelowIntOfStepsTimesFactor() {
        AdapterRequest r = AdapterRequest.parse(List.of(Map.of("model", "/m", "image", IMAGE, "factor", 0.3)))
                .get(0);
        // int(20 * 0.3) = 6 (20 * 0.3 is 6.000000000000001 in doubles, as in Python)
        assertThat(r.activeAt(5, 20)).isTrue();
        assertThat(r.activeAt(6, 20)).isFalse();
        AdapterRequest all = AdapterRequest.parse(List.of(Map.of("model", "/m", "image", IMAGE))).get(0);
        assertThat(all.activeAt(19, 20)).isTrue();
    }

    @Test
    void wrongEntriesAreRefusedInWords() {
        assertThatThrownBy(() -> AdapterRequest.parse("x")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("List of Maps");
        assertThatThrownBy(() -> AdapterRequest.parse(List.of(Map.of("model", "/m", "image", IMAGE, "strength", 1))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("unknown key 'strength'");
        assertThatThrownBy(() -> AdapterRequest.parse(List.of(Map.of("model", "/m"))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("--adapter-image");
        assertThatThrownBy(() -> AdapterRequest.parse(List.of(Map.of("model", "/m", "image", IMAGE, "scale", "big"))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("--adapter-scale");
    }

    @Test
    void outputsAreOrderedByTheirTrailingIndexAndRepeatedPerBatchEntry() {
        assertThat(List.of("adapter_state_10", "adapter_state_2", "adapter_state_0").stream()
                .sorted(java.util.Comparator.comparingInt(T2IAdapterConditioner::index)).toList())
                .containsExactly("adapter_state_0", "adapter_state_2", "adapter_state_10");
        FloatTensor two = T2IAdapterConditioning.repeat(FloatTensor.of(new float[] {1, 2}, 1, 2, 1, 1), 2);
        assertThat(two.shape()).containsExactly(2, 2, 1, 1);
        assertThat(two.array()).containsExactly(1, 2, 1, 2);
        FloatTensor y = Images.luma(new RgbImage(1, 1, new float[] {1f, 0f, 0f}));
        assertThat(y.array()[0]).isEqualTo(0.299f);
    }
}
