package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.linearBetas;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopA;
import static io.conditio.plugins.schedulers.DiffusersHarness.loopAWithNoise;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** DPM-Solver(++) multistep parity with diffusers' {@code test_scheduler_dpm_multi.py} (loop A). */
class DpmSolverMultistepSchedulerTest implements FullLoopParity {

    private static DpmSolverMultistepScheduler dpm(Object... overrides) {
        return new DpmSolverMultistepScheduler(DiffusersHarness.with(linearBetas(1000, "solver_order", 2,
                "prediction_type", "epsilon", "thresholding", false, "sample_max_value", 1.0,
                "algorithm_type", "dpmsolver++", "solver_type", "midpoint", "lower_order_final", false,
                "euler_at_final", false, "final_sigmas_type", "sigma_min"), overrides));
    }

    private static FloatTensor fullLoop(Object... overrides) {
        return loopA(dpm(overrides), 10);
    }

    static Stream<ParityRow> fullLoops() {
        return Stream.of(
                ParityRow.meanOf("DPM++2M no_noise", () -> fullLoop(), 0.3301),
                ParityRow.meanOf("DPM++2M thresholding", () -> fullLoop("thresholding", true,
                        "dynamic_thresholding_ratio", 0.87, "sample_max_value", 0.5), 1.1364),
                ParityRow.meanOf("DPM++2M v_prediction", () -> fullLoop("prediction_type", "v_prediction"), 0.2251),
                ParityRow.meanOf("DPM++2M karras+v_prediction",
                        () -> fullLoop("prediction_type", "v_prediction", "use_karras_sigmas", true), 0.2096),
                ParityRow.meanOf("DPM++2M lu_lambdas+v_prediction",
                        () -> fullLoop("prediction_type", "v_prediction", "use_lu_lambdas", true), 0.1554),
                ParityRow.of("DPM++2M with_noise", () -> loopAWithNoise(dpm(), 10, 5), 318.4111, 0.4146));
    }

    @Test
    void linspaceTimestepsMatchDiffusers() {
        DpmSolverMultistepScheduler s = dpm();
        s.setTimesteps(10);
        assertThat(s.timesteps()).containsExactly(999, 899, 799, 699, 599, 500, 400, 300, 200, 100);
    }

    @ParameterizedTest(name = "{0} order {1} {2} {3}")
    @CsvSource({
        "dpmsolver++, 1, midpoint, epsilon", "dpmsolver++, 2, heun, sample", "dpmsolver++, 3, midpoint, epsilon",
        "dpmsolver++, 3, heun, sample", "dpmsolver, 1, midpoint, epsilon", "dpmsolver, 2, midpoint, sample",
        "dpmsolver, 2, heun, epsilon", "dpmsolver, 3, heun, epsilon"})
    void everyOrderAndSolverTypeRunsWithoutNaNs(String algorithm, int order, String solverType, String prediction) {
        FloatTensor out = fullLoop("algorithm_type", algorithm, "solver_order", order, "solver_type", solverType,
                "prediction_type", prediction);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }

    @Test
    void karrasWithFinalSigmaMinEndsOnAZeroLengthStepWithoutNaNs() {
        for (String solverType : new String[] {"midpoint", "heun"}) {
            FloatTensor out = fullLoop("use_karras_sigmas", true, "solver_type", solverType);
            assertThat(DiffusersHarness.allFinite(out)).as(solverType).isTrue();
        }
    }

    @Test
    void sdeVariantDrawsOneNoiseTensorPerStep() {
        DpmSolverMultistepScheduler s = dpm("algorithm_type", "sde-dpmsolver++");
        CountingRandom random = new CountingRandom();
        FloatTensor out = loopA(s, 10, random);
        random.assertDrewSampleShapedNoise(10);
        assertThat(DiffusersHarness.allFinite(out)).isTrue();
    }

    @Test
    void zeroFinalSigmaIsRefusedForTheNoisePredictingAlgorithm() {
        assertThatThrownBy(() -> dpm("algorithm_type", "dpmsolver", "final_sigmas_type", "zero"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("sigma_min");
    }

    @Test
    void unsupportedAlgorithmNamesTheKeyAndTheAllowedValues() {
        assertThatThrownBy(() -> dpm("algorithm_type", "dpmsolver+++"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("algorithm_type")
                .hasMessageContaining("dpmsolver++, sde-dpmsolver++, dpmsolver, sde-dpmsolver");
    }

    @Test
    void unsupportedSolverOrderNamesTheAllowedValues() {
        assertThatThrownBy(() -> dpm("solver_order", 4))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("solver_order").hasMessageContaining("1, 2, 3");
    }
}
