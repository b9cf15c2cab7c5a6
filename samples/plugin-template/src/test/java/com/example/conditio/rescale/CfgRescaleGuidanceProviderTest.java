package com.example.conditio.rescale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ClassifierFreeGuidance;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.SingleBranchGuidance;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class CfgRescaleGuidanceProviderTest {

    private static GenerationRequest request(double scale, Object rescale) {
        return GenerationRequest.builder().optGuidanceScale(scale)
                .optParameter(CfgRescaleGuidanceProvider.PARAMETER, rescale).build();
    }

    private static Guidance overCfg(double scale, Object rescale) {
        return new CfgRescaleGuidanceProvider().wrap(request(scale, rescale), null,
                new ClassifierFreeGuidance(scale)).orElseThrow();
    }

    private static FloatTensor batch(float[] uncond, float[] cond) {
        float[] both = new float[uncond.length + cond.length];
        System.arraycopy(uncond, 0, both, 0, uncond.length);
        System.arraycopy(cond, 0, both, uncond.length, cond.length);
        return FloatTensor.of(both, 2, uncond.length);
    }

    @Test
    void fullRescaleGivesTheConditionalStandardDeviation() {
        float[] cond = {1f, 1f, 4f, 2f};
        FloatTensor out = overCfg(5.0, 1.0).combine(batch(new float[] {0f, 1f, 2f, 3f}, cond), null);
        assertThat(CfgRescaleGuidanceProvider.Rescaled.std(out.array()))
                .isCloseTo(CfgRescaleGuidanceProvider.Rescaled.std(cond), Offset.offset(1e-5));
    }

    @Test
    void itRescalesTheGuidanceBelowAndDescribesItselfAlone() {
        Guidance g = overCfg(5.0, 0.5);
        assertThat(g.describe()).isEqualTo("cfg-rescale(0.5)");
        assertThat(g.branches()).isEqualTo(new ClassifierFreeGuidance(5.0).branches());
        FloatTensor out = batch(new float[] {0f, 1f, 2f, 3f}, new float[] {1f, 1f, 4f, 2f});
        float[] cfg = ClassifierFreeGuidance.guide(out, 5f).array();
        float[] rescaled = g.combine(out, null).array();
        // half way between the guided prediction and its rescaled copy: same sign, smaller spread
        assertThat(CfgRescaleGuidanceProvider.Rescaled.std(rescaled))
                .isLessThan(CfgRescaleGuidanceProvider.Rescaled.std(cfg));
    }

    @Test
    void withoutTheParameterOrWithoutGuidanceThereIsNothingToWrap() {
        CfgRescaleGuidanceProvider p = new CfgRescaleGuidanceProvider();
        assertThat(p.wrap(GenerationRequest.builder().build(), null, new ClassifierFreeGuidance(7.5))).isEmpty();
        assertThat(p.wrap(request(1.0, 0.7), null, new SingleBranchGuidance("none"))).isEmpty();
        assertThat(p.create(request(7.5, 0.7), null)).as("a modifier, not a base").isEmpty();
    }

    @Test
    void anOutOfRangeValueIsRefused() {
        assertThatThrownBy(() -> overCfg(7.5, 1.5)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("guidance_rescale");
    }
}
