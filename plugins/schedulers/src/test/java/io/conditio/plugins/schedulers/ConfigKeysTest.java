package io.conditio.plugins.schedulers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The declared config keys are what the schedulers read: the listing, the defaults and the effective config come from
 * the same declarations.
 */
class ConfigKeysTest {
    private final BuiltInSchedulers provider = new BuiltInSchedulers();

    static Stream<String> classNames() {
        return new BuiltInSchedulers().classNames().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("classNames")
    void anEmptyConfigRecordsExactlyTheDeclaredKeysWithTheDeclaredDefaults(String className) {
        Scheduler s = provider.create(SchedulerConfig.of(Map.of(SchedulerConfig.CLASS_NAME, className)));
        Map<String, Object> effective = new java.util.LinkedHashMap<>(s.config().asMap());
        assertThat(effective.remove(SchedulerConfig.CLASS_NAME)).isEqualTo(className);

        List<ParameterDeclaration> declared = provider.configKeys(className);
        assertThat(declared).isNotEmpty();
        // the listing is in reading order, so it is the effective config's order too
        assertThat(new ArrayList<>(effective.keySet()))
                .containsExactlyElementsOf(declared.stream().map(ParameterDeclaration::name).toList());
        for (ParameterDeclaration d : declared) {
            Object v = effective.get(d.name());
            if (v instanceof Double x && x.isInfinite()) {
                assertThat(d.defaultValue()).isEmpty();
                assertThat(d.description()).as(className + " " + d.name()).endsWith("(default " + x + ")");
            } else {
                assertThat(v).as(className + " " + d.name()).isEqualTo(d.defaultValue().orElse(null));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("classNames")
    void everyDeclaredDefaultPassesItsOwnDeclaration(String className) {
        for (ParameterDeclaration d : provider.configKeys(className)) {
            d.defaultValue().ifPresent(v -> assertThat(d.check(v)).as(className + " " + d.name())
                    .isEmpty());
        }
    }

    @Test
    void classDefaultsDifferWhereDiffusersDefaultsDiffer() {
        assertThat(defaultOf("DDIMScheduler", "beta_start")).isEqualTo(0.0001);
        assertThat(defaultOf("LCMScheduler", "beta_start")).isEqualTo(0.00085);
        assertThat(defaultOf("LCMScheduler", "beta_schedule")).isEqualTo("scaled_linear");
        assertThat(defaultOf("DDIMScheduler", "timestep_spacing")).isEqualTo("leading");
        assertThat(defaultOf("EulerDiscreteScheduler", "timestep_spacing")).isEqualTo("linspace");
        assertThat(defaultOf("PNDMScheduler", "set_alpha_to_one")).isEqualTo(false);
        assertThat(defaultOf("DDIMScheduler", "set_alpha_to_one")).isEqualTo(true);
    }

    @Test
    void theListingCarriesTypesChoicesAndRanges() {
        ParameterDeclaration prediction = declaration("EulerAncestralDiscreteScheduler", "prediction_type");
        assertThat(prediction.type()).isEqualTo(ParameterType.ENUM);
        assertThat(prediction.allowedValues()).containsExactly("epsilon", "v_prediction");

        ParameterDeclaration betaEnd = declaration("DDIMScheduler", "beta_end");
        assertThat(betaEnd.minimum()).contains(0.0);
        assertThat(betaEnd.maximum()).contains(1.0);
        assertThat(betaEnd.maximumInclusive()).isFalse();

        assertThat(declaration("DDIMScheduler", "trained_betas").list()).isTrue();
        assertThat(provider.configKeys("NoSuchScheduler")).isEmpty();
        // a class without rescale_betas_zero_snr in diffusers does not list (or read) it
        assertThat(provider.configKeys("LMSDiscreteScheduler")).extracting(ParameterDeclaration::name)
                .doesNotContain("rescale_betas_zero_snr");
    }

    @Test
    void readingAKeyTheSchedulerDoesNotDeclareIsAnError() {
        ConfigReader r = new ConfigReader(SchedulerConfig.empty(), "DDIMScheduler", DdimScheduler.KEYS);
        assertThatThrownBy(() -> r.get(Sigmas.USE_KARRAS_SIGMAS))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("use_karras_sigmas");
    }

    @Test
    void predictionTypeAliasesAndValues() {
        assertThat(PredictionType.of("original_sample")).isEqualTo(PredictionType.SAMPLE);
        assertThat(PredictionType.of("v_prediction")).isEqualTo(PredictionType.V_PREDICTION);
        // the effective config keeps the spelling it was given
        Scheduler euler = new EulerScheduler(DiffusersHarness.config("prediction_type", "original_sample"));
        assertThat(euler.config().asMap().get("prediction_type")).isEqualTo("original_sample");
    }

    private Object defaultOf(String className, String key) {
        return declaration(className, key).defaultValue().orElse(null);
    }

    private ParameterDeclaration declaration(String className, String key) {
        return provider.configKeys(className).stream().filter(d -> d.name().equals(key)).findFirst()
                .orElseThrow(() -> new AssertionError(className + " does not declare " + key));
    }
}
