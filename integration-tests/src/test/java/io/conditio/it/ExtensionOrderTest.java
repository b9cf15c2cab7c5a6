package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.Conditioner;
import io.conditio.api.Ordinals;
import io.conditio.core.Conditio;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ordering guarantee of {@link Ordinals}: by ordinal, then id, whatever order the plugins were found in. */
class ExtensionOrderTest {

    private static String conditioner(String className, String id, String ordinal) {
        return """
                package example;
                import io.conditio.api.*;
                import java.util.Optional;
                import org.pf4j.Extension;
                @Extension(ordinal = ORDINAL)
                public class NAME implements Conditioner {
                    public String id() {
                        return "ID";
                    }
                    public Optional<Conditioning> prepare(ConditioningContext context) {
                        return Optional.empty();
                    }
                }
                """.replace("NAME", className).replace("ID", id).replace("ORDINAL", ordinal);
    }

    @Test
    void theBuiltInConditionersComeInTheOrderOfTheirOrdinals() {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()))) {
            assertThat(conditio.plugins().extensions(Conditioner.class)).extracting(Conditioner::id)
                    .containsExactly("text", "film", "inpaint", "pix2pix", "controlnet", "t2i-adapter");
        }
    }

    @Test
    void extensionsWithOneOrdinalAreOrderedByIdAndSitBetweenTheBuiltInOnes(@TempDir Path dir) {
        // class names in the opposite order of the ids, so a sort by class name would fail
        Path plugins = PluginJars.build(dir, "ordered", Map.of(
                "example.A", conditioner("A", "zeta", "Ordinals.ADDED_CONDITIONS"),
                "example.B", conditioner("B", "alpha", "Ordinals.ADDED_CONDITIONS"),
                "example.C", conditioner("C", "first", "Ordinals.TEXT - 1")), List.of("example.A", "example.B",
                        "example.C"));
        try (Conditio conditio = Conditio.start(List.of(plugins, TinyFixtures.pluginDir()))) {
            assertThat(conditio.plugins().extensions(Conditioner.class)).extracting(Conditioner::id)
                    .containsExactly("first", "text", "alpha", "film", "zeta", "inpaint", "pix2pix", "controlnet", "t2i-adapter");
        }
    }
}
