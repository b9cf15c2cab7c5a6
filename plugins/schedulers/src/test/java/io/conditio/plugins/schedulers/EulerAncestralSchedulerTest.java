package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopB;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopBWithNoise;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.core.random.TorchGenerator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Euler ancestral: draws once per step. With the core's torch-compatible generator (seed 0, as
 * {@code torch.manual_seed(0)} in diffusers' {@code test_scheduler_euler_ancestral.py}) the loops reproduce
 * diffusers' sums.
 */
class EulerAncestralSchedulerTest implements FullLoopParity {

    private static EulerAncestralScheduler eulerAncestral(Object... overrides) {
        return new EulerAncestralScheduler(linearBetas(1100, overrides));
    }

    @Test
    void drawsOneNoiseTensorOfTheModelOutputShapePerStep() {
        CountingRandom random = new CountingRandom();
        loopB(eulerAncestral(), 10, random);
        random.assertDrewSampleShapedNoise(10);
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.of("EulerAncestral no_noise (torch seed 0)",
                        () -> loopB(eulerAncestral(), 10, new TorchGenerator(0)), 152.3192, 0.1983),
                ParityRow.of("EulerAncestral v_prediction (torch seed 0)",
                        () -> loopB(eulerAncestral("prediction_type", "v_prediction"), 10, new TorchGenerator(0)),
                        108.4439, 0.1412),
                ParityRow.of("EulerAncestral with_noise (torch seed 0)",
                        () -> loopBWithNoise(eulerAncestral(), 10, 8, new TorchGenerator(0)), 56163.0508, 73.1290));
    }

    @Test
    void samplePredictionIsRefused() {
        assertThatThrownBy(() -> eulerAncestral("prediction_type", "sample"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("prediction_type");
    }
}
