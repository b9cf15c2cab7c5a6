package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    void severalImagesPerPromptAreGuidedEachAloneInTheBranchMajorBatch() {
        ClassifierFreeGuidance g = new ClassifierFreeGuidance(3.0);
        FloatTensor latents = FloatTensor.of(new float[] {1, 2}, 2, 1);
        assertThat(g.expand(latents).array()).as("[uncond x 2, cond x 2]").containsExactly(1, 2, 1, 2);
        // uncond image 0, uncond image 1, cond image 0, cond image 1
        FloatTensor out = g.combine(FloatTensor.of(new float[] {0.5f, -1f, 1.5f, 2f}, 4, 1), null);
        assertThat(out.shape()).containsExactly(2, 1);
        assertThat(out.array()).containsExactly(0.5f + 3f * (1.5f - 0.5f), -1f + 3f * (2f + 1f));
        assertThat(ClassifierFreeGuidance.conditional(FloatTensor.of(new float[] {0, 1, 2, 3}, 4, 1)).array())
                .containsExactly(2, 3);
    }

    @Test
    void theConditionalHalfIsACopyOfTheSecondBatchEntry() {
        FloatTensor out = FloatTensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        FloatTensor cond = ClassifierFreeGuidance.conditional(out);
        assertThat(cond.shape()).containsExactly(1, 2);
        assertThat(cond.array()).containsExactly(3, 4);
        cond.array()[0] = 9;
        assertThat(out.array()).containsExactly(1, 2, 3, 4);
    }

    @Test
    void aBatchOtherThanTwoIsRefused() {
        assertThatThrownBy(() -> ClassifierFreeGuidance.guide(FloatTensor.of(new float[] {1, 2, 3}, 3, 1), 2f))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("batch of 2");
    }

    @Test
    void singleBranchGuidancePassesLatentsAndOutputThrough() {
        SingleBranchGuidance g = new SingleBranchGuidance("embedded(8.0)");
        FloatTensor x = FloatTensor.of(new float[] {1, 2}, 1, 2);
        assertThat(g.branches()).containsExactly(GuidanceBranch.CONDITIONAL);
        assertThat(g.expand(x)).isSameAs(x);
        assertThat(g.combine(x, null)).isSameAs(x);
        assertThat(g.describe()).isEqualTo("embedded(8.0)");
    }

    @Test
    void theUnconditionalBranchDropsEveryConditionKind() {
        assertThat(GuidanceBranch.UNCONDITIONAL.drops("text")).isTrue();
        assertThat(GuidanceBranch.UNCONDITIONAL.drops("class")).isTrue();
        assertThat(GuidanceBranch.CONDITIONAL.drops("text")).isFalse();
    }
}
