package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.AfterStepCallback;
import io.conditio.core.Conditio;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin whose extension has an {@code @Inject} constructor, compiled and packaged here as a plugin author would:
 * the host creates it through Guice, with its plugin's own classes injectable, in the plugin's class loader.
 */
class GuicePluginTest {

    private static final String COUNTER = """
            package example;
            /** A plugin-private collaborator, injected by Guice. */
            public class StepCounter {
                public int steps;
            }
            """;

    private static final String HOOK = """
            package example;
            import io.conditio.api.AfterStepCallback;
            import io.conditio.api.StepContext;
            import jakarta.inject.Inject;
            import org.pf4j.Extension;
            @Extension
            public class CountingHook implements AfterStepCallback {
                private final StepCounter counter;
                @Inject
                public CountingHook(StepCounter counter) {
                    this.counter = counter;
                }
                @Override
                public void afterStep(StepContext context) {
                    counter.steps++;
                }
                @Override
                public String toString() {
                    return "counted " + counter.steps;
                }
            }
            """;

    @Test
    void anExtensionWithAnInjectConstructorIsCreatedByGuice(@TempDir Path dir) {
        Path plugins = PluginJars.build(dir, "counting-hook",
                Map.of("example.StepCounter", COUNTER, "example.CountingHook", HOOK), List.of("example.CountingHook"));

        try (Conditio conditio = Conditio.start(List.of(plugins))) {
            List<AfterStepCallback> hooks = conditio.plugins().extensions(AfterStepCallback.class);
            assertThat(hooks).singleElement().satisfies(h -> {
                assertThat(h.getClass().getName()).isEqualTo("example.CountingHook");
                assertThat(h.getClass().getClassLoader().getClass().getSimpleName()).isEqualTo("PluginClassLoader");
                h.afterStep(null);
                h.afterStep(null);
                assertThat(h).hasToString("counted 2");
            });
            assertThat(conditio.plugins().origin(hooks.get(0))).isEqualTo("counting-hook@1.0.0");
        }
    }
}
