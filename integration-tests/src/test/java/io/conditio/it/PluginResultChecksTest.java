package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.conditio.api.GenerationRequest;
import io.conditio.api.PluginFailureException;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The host checks what a plugin's conditioning contributes to a UNet call and what its scheduler returns against
 * what it declares (names, element types, shapes, finite values): a wrong result fails the generation naming the
 * plugin, its version and the call, before ONNX Runtime or the next step sees it. The plugin is a jar built here,
 * loaded by PF4J beside the built-in schedulers, in place of the text-conditioning plugin, so that its
 * conditioning alone provides sd-tiny's {@code encoder_hidden_states}.
 */
class PluginResultChecksTest {
    private static final String ID = "checked@1.0.0";

    private static final String CONDITIONER = PluginSources.extension("StatesConditioner", "Conditioner", "states", """
                public Optional<Conditioning> prepare(ConditioningContext context) {
                    String mode = context.request().prompt();
                    long[] spec = context.unet().inputs().get("encoder_hidden_states").shape();
                    int hidden = (int) spec[2];
                    return Optional.of(new Conditioning() {
                        public List<UnetInputDeclaration> provides() {
                            return List.of(UnetInputDeclaration.input("encoder_hidden_states", ElementType.FLOAT32,
                                    new int[] {-1, -1, hidden}, "zero text states"));
                        }
                        public void contribute(StepContext step, UnetInputs inputs) {
                            int b = inputs.batchSize();
                            switch (mode) {
                                case "nan" -> inputs.put("encoder_hidden_states",
                                        FloatTensor.full(Float.NaN, b, 4, hidden));
                                case "batch" -> inputs.put("encoder_hidden_states",
                                        FloatTensor.zeros(b + 1, 4, hidden));
                                case "width" -> inputs.put("encoder_hidden_states",
                                        FloatTensor.zeros(b, 4, hidden + 1));
                                case "type" -> inputs.put("encoder_hidden_states",
                                        LongTensor.of(new long[b * 4 * hidden], b, 4, hidden));
                                case "undeclared" -> {
                                    inputs.put("encoder_hidden_states", FloatTensor.zeros(b, 4, hidden));
                                    inputs.put("text_embeds", FloatTensor.zeros(b, hidden));
                                }
                                default -> inputs.put("encoder_hidden_states", FloatTensor.zeros(b, 4, hidden));
                            }
                        }
                        public void close() {
                        }
                    });
                }
            """);

    private static final String SCHEDULER = PluginSources.schedulerProvider("NanSchedulerProvider", "NanScheduler",
            "List.of(new SchedulerPreset(\"nan-step\", Map.of(), \"a step that divides by zero\"))",
            PluginSources.twoStepScheduler("return sample.div(0f).mul(0f);"));

    private static Conditio conditio;
    private static Pipeline pipeline;

    @BeforeAll
    static void open(@TempDir Path dir) throws IOException {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        try (Stream<Path> jars = Files.list(TinyFixtures.pluginDir())) {
            for (Path jar : jars.filter(j -> j.getFileName().toString().contains("schedulers")).toList()) {
                Files.copy(jar, plugins.resolve(jar.getFileName()));
            }
        }
        Path checked = PluginJars.build(dir.resolve("work"), "checked", Map.of("example.StatesConditioner",
                CONDITIONER, "example.NanSchedulerProvider", SCHEDULER), List.of("example.StatesConditioner",
                        "example.NanSchedulerProvider"));
        conditio = Conditio.start(List.of(plugins, checked));
        pipeline = conditio.open(TinyFixtures.model("sd-tiny"));
    }

    @AfterAll
    static void close() {
        if (pipeline != null) {
            pipeline.close();
        }
        if (conditio != null) {
            conditio.close();
        }
    }

    private static GenerationRequest.Builder request(String prompt) {
        return GenerationRequest.builder().setPrompt(prompt).optSteps(2).optSeed(1).optScheduler("euler");
    }

    @Test
    void aContributionThatIsWhatItDeclaresIsAccepted() {
        assertThat(pipeline.generate(request("zeros").build()).images()).hasSize(1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "nan|input 'encoder_hidden_states' holds non-finite values (NaN at flat index 0 of [2, 4, ",
        "batch|input 'encoder_hidden_states' is FLOAT32 [3, 4, ",
        "width|input 'encoder_hidden_states' is FLOAT32 [2, 4, ",
        "type|input 'encoder_hidden_states' is INT64 [2, 4, ",
        "undeclared|input 'text_embeds', which it does not declare; it declares [input encoder_hidden_states]"})
    void aContributionThatIsNotWhatItDeclaresIsRefusedNamingThePlugin(String mode, String reason) {
        PluginFailureException e = catchThrowableOfType(PluginFailureException.class,
                () -> pipeline.generate(request(mode).build()));
        assertThat(e).as(mode).isNotNull();
        assertThat(e.getMessage()).startsWith("conditioning contribute failed in plugin " + ID
                + " (example.StatesConditioner)").contains(reason);
        if (!mode.equals("nan") && !mode.equals("undeclared")) {
            assertThat(e.getMessage()).contains("; expected FLOAT32 [any, any, ").contains(" as declared with batch 2");
        }
        // the pipeline stays usable
        assertThat(pipeline.generate(request("zeros").build()).images()).hasSize(1);
    }

    @Test
    void aSchedulerStepThatTurnsFiniteInputsIntoNanIsRefusedNamingThePlugin() {
        PluginFailureException e = catchThrowableOfType(PluginFailureException.class,
                () -> pipeline.generate(request("zeros").optScheduler("nan-step").build()));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).startsWith("scheduler step failed in plugin " + ID
                + " (example.NanSchedulerProvider)").contains("returned non-finite values (NaN at flat index 0 of "
                        + "[1, 4, ").contains("for finite the model output and sample at timestep 999.0");
    }
}
