package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GuidanceModifierTest {

    /** Doubles the guided prediction of the chain below. */
    private static final class Doubling extends GuidanceModifier {
        Doubling(Guidance inner) {
            super(inner);
        }

        @Override
        public FloatTensor combine(FloatTensor out, StepContext step) {
            return super.combine(out, step).mul(2f);
        }

        FloatTensor unguided(FloatTensor out) {
            return conditional(out);
        }

        @Override
        public String describe() {
            return "double";
        }
    }

    @Test
    void itKeepsTheInnerBranchesAndBatchAndStartsFromTheInnerPrediction() {
        ClassifierFreeGuidance cfg = new ClassifierFreeGuidance(3.0);
        Doubling d = new Doubling(cfg);
        assertThat(d.inner()).isSameAs(cfg);
        assertThat(d.branches()).isEqualTo(cfg.branches());
        FloatTensor latents = FloatTensor.of(new float[] {1, 2}, 1, 2);
        assertThat(d.expand(latents).array()).containsExactly(cfg.expand(latents).array());
        FloatTensor out = FloatTensor.of(new float[] {0.5f, 1f, 1.5f, -1f}, 2, 2);
        float[] guided = cfg.combine(out, null).array();
        assertThat(d.combine(out, null).array()).containsExactly(2 * guided[0], 2 * guided[1]);
    }

    @Test
    void theConditionalPredictionIsTheBranchThatDropsNothing() {
        FloatTensor out = FloatTensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        GuidanceBranch imageOnly = new GuidanceBranch("image", Set.of("text"));
        Guidance threeWay = guidanceOf(List.of(imageOnly, GuidanceBranch.CONDITIONAL,
                GuidanceBranch.UNCONDITIONAL));
        FloatTensor cond = new Doubling(threeWay).unguided(out);
        assertThat(cond.shape()).containsExactly(1, 2);
        assertThat(cond.array()).containsExactly(3, 4);
        assertThat(GuidanceModifier.conditionalBranch(List.of(imageOnly, GuidanceBranch.UNCONDITIONAL))).isEqualTo(-1);
    }

    @Test
    void aGuidanceWithoutAFullyConditionedBranchOrTheWrongBatchIsRefused() {
        Doubling noCond = new Doubling(guidanceOf(List.of(GuidanceBranch.UNCONDITIONAL)));
        assertThatThrownBy(() -> noCond.unguided(FloatTensor.of(new float[] {1}, 1, 1)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("keeps every condition");
        Doubling cfg = new Doubling(new ClassifierFreeGuidance(2.0));
        assertThatThrownBy(() -> cfg.unguided(FloatTensor.of(new float[] {1, 2, 3}, 3, 1)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("batch of 2");
    }

    private static Guidance guidanceOf(List<GuidanceBranch> branches) {
        return new Guidance() {
            @Override
            public List<GuidanceBranch> branches() {
                return branches;
            }

            @Override
            public FloatTensor expand(FloatTensor latents) {
                return latents;
            }

            @Override
            public FloatTensor combine(FloatTensor modelOutput, StepContext step) {
                return modelOutput;
            }

            @Override
            public String describe() {
                return "test";
            }
        };
    }
}
