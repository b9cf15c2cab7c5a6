package io.conditio.plugins.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.conditio.api.InvalidRequestException;
import java.util.List;

/**
 * Fuzz target for the prompt-weighting syntax, which reads every prompt a user or a server client sends. Any text
 * parses to fragments with finite weights (a weight of infinity would turn the prompt embeddings and then the whole
 * image into NaN), or is refused with a message about the weight; no fragment is empty. The default build replays the inputs in
 * {@code PromptSyntaxFuzzTestInputs}; {@code mvn -Pfuzz} fuzzes for real (see the README's "Fuzzing" section).
 */
class PromptSyntaxFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void parse(FuzzedDataProvider data) {
        String prompt = data.consumeRemainingAsString();
        List<PromptSyntax.Fragment> fragments;
        try {
            fragments = PromptSyntax.parse(prompt);
        } catch (InvalidRequestException refused) {
            assertThat(refused.getMessage()).contains("weight");
            return;
        }
        for (PromptSyntax.Fragment f : fragments) {
            assertThat(f.weight()).as("weight of %s in %s", f.text(), prompt).isFinite();
            assertThat(f.text()).isNotEmpty();
        }
    }
}
