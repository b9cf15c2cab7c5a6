package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A modifier's buffer-reusing forms forward to the guidance below unless the modifier changes the plain method. */
class GuidanceModifierBuffersTest {
    /** Changes nothing but its description. */
    private static final class Naming extends GuidanceModifier {
        Naming(Guidance inner) {
            super(inner);
        }

        @Override
        public String describe() {
            return "naming";
        }
    }

    /** Changes combine only. */
    private static final class Halving extends GuidanceModifier {
        Halving(Guidance inner) {
            super(inner);
        }

        @Override
        public FloatTensor combine(FloatTensor out, StepContext step) {
            return super.combine(out, step).mul(0.5f);
        }

        FloatTensor unguidedInto(FloatTensor out, FloatTensor into) {
            return conditionalInto(out, into);
        }

        @Override
        public String describe() {
            return "halving";
        }
    }

    private static final FloatTensor LATENTS = FloatTensor.of(new float[] {1, 2}, 1, 2);
    private static final FloatTensor OUT = FloatTensor.of(new float[] {0.5f, 1f, 1.5f, -1f}, 2, 2);

    @Test
    void aModifierThatKeepsThePlainMethodsWritesTheInnerResultIntoTheHostsTensors() {
        ClassifierFreeGuidance cfg = new ClassifierFreeGuidance(3.0);
        Naming m = new Naming(cfg);
        FloatTensor batch = FloatTensor.zeros(2, 2);
        assertThat(m.expandInto(LATENTS, batch)).isSameAs(batch);
        assertThat(batch.array()).containsExactly(cfg.expand(LATENTS).array());
        FloatTensor guided = FloatTensor.zeros(1, 2);
        assertThat(m.combineInto(OUT, null, guided)).isSameAs(guided);
        assertThat(guided.array()).containsExactly(cfg.combine(OUT, null).array());
    }

    @Test
    void aModifierThatChangesCombineGetsItsOwnCombineAndCanCopyTheConditionalBranchIntoTheHostsTensor() {
        Halving m = new Halving(new ClassifierFreeGuidance(3.0));
        FloatTensor guided = FloatTensor.zeros(1, 2);
        assertThat(m.combineInto(OUT, null, guided).array()).containsExactly(m.combine(OUT, null).array());
        FloatTensor cond = FloatTensor.zeros(1, 2);
        assertThat(m.unguidedInto(OUT, cond)).isSameAs(cond);
        assertThat(cond.array()).containsExactly(1.5f, -1f);
    }
}
