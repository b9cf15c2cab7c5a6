package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.AfterStepCallback;
import io.conditio.core.Conditio;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
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
    void anExtensionWithAnInjectConstructorIsCreatedByGuice(@TempDir Path dir) throws IOException {
        Path src = Files.createDirectories(dir.resolve("src/example"));
        Files.writeString(src.resolve("StepCounter.java"), COUNTER);
        Files.writeString(src.resolve("CountingHook.java"), HOOK);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-proc:none", "-d", classes.toString(), "-cp",
                System.getProperty("java.class.path"), src.resolve("StepCounter.java").toString(),
                src.resolve("CountingHook.java").toString());
        assertThat(rc).as("javac").isZero();
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        jar(classes, plugins.resolve("counting-hook.jar"));

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

    private static void jar(Path classes, Path jar) throws IOException {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(new Attributes.Name("Plugin-Id"), "counting-hook");
        a.put(new Attributes.Name("Plugin-Version"), "1.0.0");
        a.put(new Attributes.Name("Plugin-Requires"), ">=0.1.0 & <1.0.0");
        a.put(new Attributes.Name("Plugin-Provider"), "a test");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, mf);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                j.write(Files.readAllBytes(f));
                j.closeEntry();
            }
            // what PF4J's annotation processor writes
            j.putNextEntry(new JarEntry("META-INF/extensions.idx"));
            j.write("example.CountingHook\n".getBytes(StandardCharsets.UTF_8));
            j.closeEntry();
        }
    }
}
