package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.conditio.api.GenerationRequest;
import io.conditio.api.PluginFailureException;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A third-party plugin with bugs, beside the built-in plugins: its failures reach the caller as a
 * {@link PluginFailureException} naming the plugin id and version and what was called, with the bug as the cause.
 */
class PluginFailureTest {

    private static final String PROVIDER = PluginSources.schedulerProvider("BrokenSchedulerProvider",
            "BrokenScheduler", "List.of(new SchedulerPreset(\"broken\", Map.of(), \"a scheduler whose step throws\"))",
            PluginSources.twoStepScheduler("""
                    Object missing = null;
                    return (FloatTensor) missing.getClass().cast(sample);
                    """));

    private static final String LEAKY = PluginSources.extension("LeakyConditioner", "Conditioner", "leaky", """
                public Optional<Conditioning> prepare(ConditioningContext context) {
                    if (!context.request().parameters().containsKey("leaky")) {
                        return Optional.empty();
                    }
                    return Optional.of(new Conditioning() {
                        public List<UnetInputDeclaration> provides() {
                            return List.of();
                        }
                        public void contribute(StepContext step, UnetInputs inputs) {
                        }
                        public void close() {
                            throw new IllegalStateException("closed twice");
                        }
                    });
                }
            """);

    private static Path plugin(Path dir) {
        return PluginJars.build(dir, "buggy", Map.of("example.BrokenSchedulerProvider", PROVIDER,
                "example.LeakyConditioner", LEAKY), List.of("example.BrokenSchedulerProvider",
                        "example.LeakyConditioner"));
    }

    /** Opens sd-tiny with the built-in plugins and the buggy one, runs the request, and returns its failure. */
    private static PluginFailureException failure(Path dir, GenerationRequest request) {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir(), plugin(dir)));
                Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
            return catchThrowableOfType(PluginFailureException.class, () -> pipeline.generate(request));
        }
    }

    private static GenerationRequest.Builder request() {
        return GenerationRequest.builder().setPrompt("a red circle").optSteps(2).optSeed(1);
    }

    @Test
    void aSchedulerWhoseStepThrowsIsNamedWithItsPluginAndVersion(@TempDir Path dir) {
        PluginFailureException e = failure(dir, request().optScheduler("broken").build());
        assertThat(e).hasMessageContaining("scheduler step").hasMessageContaining("buggy@1.0.0")
                .hasMessageContaining("example.BrokenSchedulerProvider")
                .hasCauseInstanceOf(NullPointerException.class);
    }

    @Test
    void aCloseFailureAfterAFailedGenerationIsSuppressedOnTheFailure(@TempDir Path dir) {
        PluginFailureException e = failure(dir, request().optScheduler("broken").optParameter("leaky", true).build());
        assertThat(e).hasMessageContaining("scheduler step");
        assertThat(e.getSuppressed()).singleElement().satisfies(s -> assertThat(s)
                .hasMessageContaining("conditioning close").hasMessageContaining("buggy@1.0.0")
                .hasRootCauseMessage("closed twice"));
    }

    @Test
    void aCloseFailureAfterASuccessfulGenerationIsThrown(@TempDir Path dir) {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir(), plugin(dir)));
                Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
            PluginFailureException e = catchThrowableOfType(PluginFailureException.class,
                    () -> pipeline.generate(request().optScheduler("euler").optParameter("leaky", true).build()));
            assertThat(e).hasMessageContaining("conditioning close").hasMessageContaining("buggy@1.0.0")
                    .hasMessageContaining("example.LeakyConditioner");
            assertThat(pipeline.generate(request().optScheduler("euler").build()).images()).hasSize(1);
        }
    }
}
