package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.GenerationRequest;
import io.conditio.api.PluginFailureException;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host checks what a guidance plugin returns and names the plugin when it is wrong. */
class GuidanceResultChecksTest {
    @TempDir
    Path dir;

    private static String source(String combineBody) {
        return PluginSources.guidanceProvider("Odd", "odd", """
                    public List<ParameterDeclaration> parameters() {
                        return List.of(ParameterDeclaration.builder("odd", ParameterType.BOOLEAN).description("on")
                                .build());
                    }

                    public Optional<Guidance> create(GenerationRequest request, Model unet) {
                        if (request.parameters().get("odd") == null) {
                            return Optional.empty();
                        }
                        SingleBranchGuidance plain = new SingleBranchGuidance("odd");
                        return Optional.of(new Guidance() {
                            public List<GuidanceBranch> branches() {
                                return plain.branches();
                            }

                            public FloatTensor expand(FloatTensor latents) {
                                return plain.expand(latents);
                            }

                            public FloatTensor combine(FloatTensor out, StepContext step) {
                """ + combineBody + """
                            }

                            public String describe() {
                                return "odd";
                            }
                        });
                    }
                """);
    }

    private PluginFailureException run(String name, String combineBody) {
        Path plugins = PluginJars.build(dir.resolve(name), "odd-guidance", ">=0.2.0 & <1.0.0",
                Map.of("example.Odd", source(combineBody)), List.of("example.Odd"));
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir(), plugins));
                Pipeline p = conditio.open(TinyFixtures.model("sd-tiny"))) {
            GenerationRequest r = GenerationRequest.builder().setPrompt("a red circle").optSteps(2).optSeed(1)
                    .optParameter("odd", true).build();
            return org.assertj.core.api.Assertions.catchThrowableOfType(PluginFailureException.class,
                    () -> p.generate(r));
        }
    }

    @Test
    void aCombineOfTheWrongBatchSizeIsRefusedNamingThePlugin() {
        PluginFailureException e = run("batch", "return FloatTensor.concatBatch(out, out);");
        assertThatThrownBy(() -> {
            throw e;
        }).hasMessageContaining("guidance combine failed in plugin odd-guidance@1.0.0")
                .hasMessageContaining("returned [2, ").hasMessageContaining("expected [1, ");
    }

    @Test
    void nonFiniteValuesFromAFiniteModelOutputAreRefused() {
        PluginFailureException e = run("nan", "return out.mul(Float.NaN);");
        assertThatThrownBy(() -> {
            throw e;
        }).hasMessageContaining("odd-guidance@1.0.0").hasMessageContaining("non-finite values")
                .hasMessageContaining("step 0");
    }
}
