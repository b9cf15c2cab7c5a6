package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Unsupported values name the key and the allowed values; configs that cannot work are refused with the fix. */
class ConfigurationErrorsTest {

    /** The schedulers that, like their diffusers classes, have {@code rescale_betas_zero_snr}. */
    static Stream<Arguments> zeroSnrSchedulers() {
        return Stream.of(
                Arguments.of("DDIM", (Function<SchedulerConfig, Scheduler>) DdimScheduler::new),
                Arguments.of("DDPM", (Function<SchedulerConfig, Scheduler>) DdpmScheduler::new),
                Arguments.of("Euler", (Function<SchedulerConfig, Scheduler>) EulerScheduler::new),
                Arguments.of("EulerAncestral", (Function<SchedulerConfig, Scheduler>) EulerAncestralScheduler::new),
                Arguments.of("DPM++", (Function<SchedulerConfig, Scheduler>) DpmSolverMultistepScheduler::new),
                Arguments.of("UniPC", (Function<SchedulerConfig, Scheduler>) UniPcScheduler::new),
                Arguments.of("LCM", (Function<SchedulerConfig, Scheduler>) LcmScheduler::new),
                Arguments.of("TCD", (Function<SchedulerConfig, Scheduler>) TcdScheduler::new));
    }

    /** The ones whose diffusers class does not clamp the terminal alphas_cumprod: x0 divides by zero there. */
    static Stream<Arguments> unclampedZeroSnrSchedulers() {
        return zeroSnrSchedulers().filter(a -> List.of("DDIM", "DDPM", "LCM", "TCD").contains((String) a.get()[0]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unclampedZeroSnrSchedulers")
    void zeroTerminalSnrWithEpsilonFromTheTerminalStepIsRefusedWithTheReasonAndTheFix(String name,
            Function<SchedulerConfig, Scheduler> factory) {
        Scheduler s = factory.apply(config("rescale_betas_zero_snr", true, "prediction_type", "epsilon",
                "timestep_spacing", "trailing"));
        assertThatThrownBy(() -> s.setTimesteps(4))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("rescale_betas_zero_snr")
                .hasMessageContaining("epsilon")
                .hasMessageContaining("divides by zero")
                .hasMessageContaining("v_prediction");
    }

    /** LCM and TCD always step from the last training timestep, so with epsilon they are always refused. */
    static Stream<Arguments> zeroSnrSchedulersWithASpacing() {
        return zeroSnrSchedulers().filter(a -> !List.of("LCM", "TCD").contains((String) a.get()[0]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("zeroSnrSchedulersWithASpacing")
    void zeroTerminalSnrWithEpsilonRunsWithoutNaNsWhereDiffusersDoes(String name,
            Function<SchedulerConfig, Scheduler> factory) {
        boolean clamped = List.of("Euler", "EulerAncestral", "DPM++", "UniPC").contains(name);
        // the clamping schedulers from the terminal step; the others from a leading spacing, which starts below it
        Scheduler s = factory.apply(config("rescale_betas_zero_snr", true, "prediction_type", "epsilon",
                "timestep_spacing", clamped ? "trailing" : "leading", "steps_offset", 1));
        s.setTimesteps(8);
        if (clamped) {
            assertThat(s.timesteps()[0]).isEqualTo(999f);
        }
        assertEveryStepFinite(name, s);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("zeroSnrSchedulers")
    void zeroTerminalSnrWithVPredictionRunsWithoutNaNs(String name, Function<SchedulerConfig, Scheduler> factory) {
        Scheduler s = factory.apply(config("rescale_betas_zero_snr", true, "prediction_type", "v_prediction",
                "timestep_spacing", "trailing", "beta_schedule", "scaled_linear", "beta_start", 0.00085,
                "beta_end", 0.012));
        s.setTimesteps(8);
        assertEveryStepFinite(name, s);
    }

    /** Steps from scaled noise with an epsilon-like model ({@code 0.3 * input}); every step's sample is finite. */
    private static void assertEveryStepFinite(String name, Scheduler s) {
        CountingRandom random = new CountingRandom();
        FloatTensor x = random.randn(1, 4, 4, 4).mul(s.initNoiseSigma());
        for (float t : s.timesteps()) {
            FloatTensor in = s.scaleModelInput(x, t);
            x = s.step(in.mul(0.3f), t, x, random);
            assertThat(DiffusersHarness.allFinite(x)).as(name + " at t=" + t).isTrue();
        }
    }

    @Test
    void unsupportedBetaScheduleNamesTheKeyTheClassAndTheAllowedValues() {
        assertThatThrownBy(() -> new DdimScheduler(config("beta_schedule", "cosine")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'beta_schedule'").hasMessageContaining("'cosine'")
                .hasMessageContaining("DDIMScheduler")
                .hasMessageContaining("linear, scaled_linear, squaredcos_cap_v2");
    }

    @ParameterizedTest(name = "{0} = {1}")
    @org.junit.jupiter.params.provider.CsvSource({"beta_start, NaN", "beta_start, -0.1", "beta_end, 1.5",
            "beta_end, Infinity"})
    void betaBoundsOutsideZeroToOneAreRefused(String key, double value) {
        // NaN here used to give a NaN schedule and a NaN image with exit 0
        assertThatThrownBy(() -> new EulerScheduler(config(key, value)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'" + key + "'").hasMessageContaining("EulerDiscreteScheduler")
                .hasMessageContaining("expected a number in [0, 1)");
        assertThatThrownBy(() -> new DdimScheduler(config("trained_betas", List.of(0.1, value),
                "num_train_timesteps", 2)))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("trained_betas[1]");
    }

    @Test
    void unsupportedTimestepSpacingNamesTheAllowedValues() {
        assertThatThrownBy(() -> new EulerScheduler(config("timestep_spacing", "uniform")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("timestep_spacing").hasMessageContaining("linspace, leading, trailing");
    }

    @Test
    void unsupportedPredictionTypeNamesTheAllowedValues() {
        assertThatThrownBy(() -> new DpmSolverMultistepScheduler(config("prediction_type", "flow_prediction")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("prediction_type").hasMessageContaining("epsilon, sample, v_prediction");
    }

    @Test
    void aValueOfTheWrongTypeNamesTheKey() {
        assertThatThrownBy(() -> new DdimScheduler(config("num_train_timesteps", "many")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("'num_train_timesteps'")
                .hasMessageContaining("DDIMScheduler").hasMessageContaining("expected an integer");
    }

    @Test
    void aValueOutOfRangeNamesTheKeyTheClassAndTheRange() {
        assertThatThrownBy(() -> new DdimScheduler(config("eta", -0.5)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("scheduler config key 'eta' is -0.5 for DDIMScheduler; expected a number >= 0");
        assertThatThrownBy(() -> new TcdScheduler(config("eta", 1.5)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("scheduler config key 'eta' is 1.5 for TCDScheduler; expected a number in [0, 1]");
        assertThatThrownBy(() -> new UniPcScheduler(config("solver_order", 5)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("scheduler config key 'solver_order' is 5 for UniPCMultistepScheduler; expected an "
                        + "integer in [1, 4]");
        assertThatThrownBy(() -> new DpmSolverMultistepScheduler(config("solver_order", 4)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("scheduler config key 'solver_order' is 4 for DPMSolverMultistepScheduler; expected one "
                        + "of 1, 2, 3");
        assertThatThrownBy(() -> new FlowMatchEulerScheduler(config("num_train_timesteps", 0)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("scheduler config key 'num_train_timesteps' is 0 for FlowMatchEulerDiscreteScheduler; "
                        + "expected an integer >= 1");
    }

    @Test
    void betaSigmasAreRefusedWithAnAlternative() {
        assertThatThrownBy(() -> new EulerScheduler(config("use_beta_sigmas", true)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("use_beta_sigmas").hasMessageContaining("use_karras_sigmas");
    }

    @Test
    void twoSigmaSchedulesAtOnceAreRefused() {
        assertThatThrownBy(() -> new LmsScheduler(config("use_karras_sigmas", true, "use_exponential_sigmas", true)))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("only one of");
    }

    @Test
    void unknownKeysAreIgnored() {
        Scheduler s = new EulerScheduler(config("clip_sample", true, "skip_prk_steps", true, "whatever", 3));
        s.setTimesteps(4);
        assertThat(s.timesteps()).hasSize(4);
    }

    @Test
    void trainedBetasReplaceTheSchedule() {
        double[] betas = new double[10];
        for (int i = 0; i < betas.length; i++) {
            betas[i] = 0.1;
        }
        java.util.List<Double> list = java.util.Arrays.stream(betas).boxed().toList();
        DdimScheduler s = new DdimScheduler(config("trained_betas", list, "num_train_timesteps", 10));
        s.setTimesteps(2);
        assertThat(s.timesteps()).containsExactly(5f, 0f);
        assertThat(s.config().asMap().get("trained_betas")).isEqualTo(list);
    }
}
