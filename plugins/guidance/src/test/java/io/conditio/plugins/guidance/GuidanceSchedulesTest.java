package io.conditio.plugins.guidance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ClassifierFreeGuidance;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.SingleBranchGuidance;
import io.conditio.tck.TestRandom;
import io.conditio.tck.TestStepContext;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class GuidanceSchedulesTest {
    private static final ClassifierFreeGuidance CFG = new ClassifierFreeGuidance(7.5);
    private static final FloatTensor OUT = new TestRandom(11).randn(2, 4, 4, 4);
    private static final FloatTensor LATENTS = new TestRandom(12).randn(1, 4, 4, 4);

    private static Guidance interval(double start, double end) {
        return new IntervalGuidanceProvider().wrap(GenerationRequest.builder()
                .optParameter(IntervalGuidanceProvider.PARAMETER, List.of(start, end)).build(), null, CFG)
                .orElseThrow();
    }

    private static Guidance anneal(String shape) {
        return new AnnealGuidanceProvider().wrap(GenerationRequest.builder()
                .optParameter(AnnealGuidanceProvider.PARAMETER, shape).build(), null, CFG).orElseThrow();
    }

    /** @return the context of scheduler step {@code step} of {@code steps}, sub-step {@code sub} */
    private static TestStepContext at(int step, int steps, int sub) {
        return TestStepContext.of(LATENTS).step(2 * step + sub, 2 * steps - 1).schedulerStep(step, steps, sub);
    }

    @Test
    void anIntervalGuidesTheStepsInsideItAndGivesTheConditionalPredictionOutside() {
        Guidance g = interval(0.2, 0.8);
        assertThat(g.describe()).isEqualTo("interval(0.2, 0.8)");
        float[] guided = CFG.combine(OUT, null).array();
        float[] cond = ClassifierFreeGuidance.conditional(OUT).array();
        List<Integer> guidedSteps = new ArrayList<>();
        for (int step = 0; step < 10; step++) {
            float[] got = g.combine(OUT, at(step, 10, 0)).array();
            if (java.util.Arrays.equals(got, guided)) {
                guidedSteps.add(step);
            } else {
                assertThat(got).as("step %d outside the interval", step).containsExactly(cond);
            }
        }
        assertThat(guidedSteps).containsExactly(2, 3, 4, 5, 6, 7);
    }

    @Test
    void bothCallsOfASecondOrderStepAreInsideOrOutsideTogether() {
        Guidance g = interval(0.0, 0.5);
        // Heun, 4 steps: the corrector of step 1 runs at the timestep of step 2, yet is still step 1
        assertThat(g.combine(OUT, at(1, 4, 1)).array()).containsExactly(CFG.combine(OUT, null).array());
        assertThat(g.combine(OUT, at(2, 4, 0)).array())
                .containsExactly(ClassifierFreeGuidance.conditional(OUT).array());
    }

    @Test
    void aLinearAnnealIsClassifierFreeGuidanceAtAScaleFallingToOne() {
        Guidance g = anneal("linear");
        assertThat(g.describe()).isEqualTo("anneal(linear)");
        assertThat(g.combine(OUT, at(0, 5, 0)).array()).containsExactly(CFG.combine(OUT, null).array());
        assertThat(g.combine(OUT, at(4, 5, 0)).array())
                .containsExactly(ClassifierFreeGuidance.conditional(OUT).array());
        // step 1 of 5: weight 0.75, scale 1 + 0.75 * 6.5
        float[] got = g.combine(OUT, at(1, 5, 0)).array();
        float[] expected = ClassifierFreeGuidance.guide(OUT, 1f + 0.75f * 6.5f).array();
        for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).isCloseTo(expected[i], Offset.offset(1e-5f));
        }
    }

    @Test
    void theCosineShapesFollowHalfACosineDownOrUp() {
        AnnealGuidanceProvider.Shape down = AnnealGuidanceProvider.Shape.COSINE;
        AnnealGuidanceProvider.Shape up = AnnealGuidanceProvider.Shape.COSINE_UP;
        assertThat(down.weight(0)).isEqualTo(1.0);
        assertThat(down.weight(0.5)).isCloseTo(0.5, Offset.offset(1e-12));
        assertThat(down.weight(0.25)).isGreaterThan(AnnealGuidanceProvider.Shape.LINEAR.weight(0.25));
        for (double p = 0; p <= 1; p += 0.125) {
            assertThat(up.weight(p)).isCloseTo(1 - down.weight(p), Offset.offset(1e-12));
        }
        Guidance g = anneal("cosine-up");
        assertThat(g.combine(OUT, at(0, 3, 0)).array())
                .containsExactly(ClassifierFreeGuidance.conditional(OUT).array());
        assertThat(g.combine(OUT, at(2, 3, 0)).array()).containsExactly(CFG.combine(OUT, null).array());
    }

    @Test
    void withoutGuidanceOrTheParameterThereIsNothingToWrap() {
        GenerationRequest both = GenerationRequest.builder().optParameter(IntervalGuidanceProvider.PARAMETER,
                List.of(0.1, 0.9)).optParameter(AnnealGuidanceProvider.PARAMETER, "linear").build();
        SingleBranchGuidance none = new SingleBranchGuidance("none");
        assertThat(new IntervalGuidanceProvider().wrap(both, null, none)).isEmpty();
        assertThat(new AnnealGuidanceProvider().wrap(both, null, none)).isEmpty();
        GenerationRequest plain = GenerationRequest.builder().build();
        assertThat(new IntervalGuidanceProvider().wrap(plain, null, CFG)).isEmpty();
        assertThat(new AnnealGuidanceProvider().wrap(plain, null, CFG)).isEmpty();
    }

    @Test
    void anEmptyOrReversedIntervalAndAnUnknownShapeAreRefused() {
        assertThatThrownBy(() -> interval(0.8, 0.2)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("guidance_interval must be two fractions START,END with 0 <= START < END")
                .hasMessageContaining("[0.8, 0.2]");
        assertThatThrownBy(() -> interval(0.5, 0.5)).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> anneal("exponential")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("[linear, cosine, linear-up, cosine-up]").hasMessageContaining("exponential");
    }
}
