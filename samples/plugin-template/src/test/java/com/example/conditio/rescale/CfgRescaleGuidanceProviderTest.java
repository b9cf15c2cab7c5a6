package com.example.conditio.rescale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.InvalidRequestException;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class CfgRescaleGuidanceProviderTest {

    private static Guidance guidance(double scale, Object rescale) {
        GenerationRequest r = GenerationRequest.builder().optGuidanceScale(scale)
                .optParameter(CfgRescaleGuidanceProvider.PARAMETER, rescale).build();
        return new CfgRescaleGuidanceProvider().create(r, null).orElseThrow();
    }

    @Test
    void fullRescaleGivesTheConditionalStandardDeviation() {
        float[] uncond = {0f, 1f, 2f, 3f};
        float[] cond = {1f, 1f, 4f, 2f};
        float[] both = new float[8];
        System.arraycopy(uncond, 0, both, 0, 4);
        System.arraycopy(cond, 0, both, 4, 4);
        FloatTensor out = guidance(5.0, 1.0).combine(FloatTensor.of(both, 2, 4), null);
        assertThat(CfgRescaleGuidanceProvider.RescaledGuidance.std(out.array()))
                .isCloseTo(CfgRescaleGuidanceProvider.RescaledGuidance.std(cond), Offset.offset(1e-5));
    }

    @Test
    void withoutTheParameterTheDefaultGuidanceStays() {
        assertThat(new CfgRescaleGuidanceProvider().create(GenerationRequest.builder().build(), null)).isEmpty();
    }

    @Test
    void anOutOfRangeValueIsRefused() {
        assertThatThrownBy(() -> guidance(7.5, 1.5)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("guidance_rescale");
    }
}
