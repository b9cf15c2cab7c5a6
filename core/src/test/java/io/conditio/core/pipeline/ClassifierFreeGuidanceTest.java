package io.conditio.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.GuidanceBranch;
import org.junit.jupiter.api.Test;

class ClassifierFreeGuidanceTest {

    @Test
    void batchesUnconditionalFirstAsDiffusersDoes() {
        ClassifierFreeGuidance g = new ClassifierFreeGuidance(7.5);
        assertThat(g.branches()).containsExactly(GuidanceBranch.UNCONDITIONAL, GuidanceBranch.CONDITIONAL);
        FloatTensor latents = FloatTensor.of(new float[] {1, 2}, 1, 2);
        assertThat(g.expand(latents).array()).containsExactly(1, 2, 1, 2);
    }

    @Test
    void combinesAsUncondPlusScaleTimesTheDifferenceInFloat32() {
        ClassifierFreeGuidance g = new ClassifierFreeGuidance(7.5);
        float u = 0.3f;
        float c = 0.7f;
        FloatTensor out = g.combine(FloatTensor.of(new float[] {u, -1f, c, 1f}, 2, 2), null);
        assertThat(out.shape()).containsExactly(1, 2);
        assertThat(out.get(0)).isEqualTo(u + 7.5f * (c - u));
        assertThat(out.get(1)).isEqualTo(-1f + 7.5f * 2f);
    }

    @Test
    void theUnconditionalBranchDropsEveryConditionKind() {
        assertThat(GuidanceBranch.UNCONDITIONAL.drops("text")).isTrue();
        assertThat(GuidanceBranch.UNCONDITIONAL.drops("class")).isTrue();
        assertThat(GuidanceBranch.CONDITIONAL.drops("text")).isFalse();
    }
}
