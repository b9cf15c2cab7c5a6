package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Writes a plugin's build output the way {@code mvn compile} with the plugin parent leaves it: classes, PF4J's
 * extension index and {@code plugin.properties} in {@code PROJECT/target/classes}.
 */
final class DevPlugins {
    private DevPlugins() {
    }

    /** A guidance provider whose version shows in its output and in the provenance's {@code guidance} entry. */
    static final String GUIDANCE = PluginSources.extension("DevGuidance", "GuidanceProvider", "dev-guidance", """
                public List<ParameterDeclaration> parameters() {
                    return List.of(ParameterDeclaration.builder("dev_factor", ParameterType.NUMBER).range(0, 2)
                            .description("scales the guided prediction").build());
                }
                public Optional<Guidance> create(GenerationRequest request, Model unet) {
                    Optional<Number> factor = request.parameter("dev_factor", Number.class);
                    if (factor.isEmpty()) {
                        return Optional.empty();
                    }
                    float f = factor.get().floatValue() * MULTIPLIER;
                    return Optional.of(new ClassifierFreeGuidance(request.guidanceScale()) {
                        public FloatTensor combine(FloatTensor out, StepContext step) {
                            float[] g = super.combine(out, step).array().clone();
                            for (int i = 0; i < g.length; i++) {
                                g[i] *= f;
                            }
                            int[] shape = out.shape();
                            shape[0] = 1;
                            return FloatTensor.of(g, shape);
                        }
                        public String describe() {
                            return "dev-guidance VERSION(" + f + ")";
                        }
                    });
                }
            """);

    /** A scheduler provider whose one preset is named after the plugin version (dots as dashes). */
    static final String SCHEDULERS = PluginSources.schedulerProvider("DevSchedulers", "DevScheduler",
            "List.of(new SchedulerPreset(\"dev-TAG\", Map.of(), \"the preset of version TAG\"))",
            "throw new UnsupportedOperationException(\"not used\");");

    /**
     * As {@link #guidance}, with a scheduler provider whose preset is {@code dev-VERSION} (dots as dashes) beside it.
     *
     * @param project    the plugin project folder
     * @param version    its version
     * @param multiplier the guidance's behaviour
     * @return the project folder
     */
    static Path guidanceAndScheduler(Path project, String version, float multiplier) {
        return build(project, "dev-guidance", version, Map.of("example.DevGuidance",
                GUIDANCE.replace("VERSION", version).replace("MULTIPLIER", multiplier + "f"),
                "example.DevSchedulers", SCHEDULERS.replace("TAG", version.replace('.', '-'))),
                List.of("example.DevGuidance", "example.DevSchedulers"));
    }

    /**
     * Compiles the guidance provider as one version of the plugin into {@code project/target/classes}, replacing
     * what was there, as a rebuild does.
     *
     * @param project    the plugin project folder
     * @param version    its {@code plugin.version}, also in what the guidance describes itself as
     * @param multiplier this version's behaviour: the factor the guided prediction is scaled by, times dev_factor
     * @return the project folder
     */
    static Path guidance(Path project, String version, float multiplier) {
        return build(project, "dev-guidance", version, Map.of("example.DevGuidance",
                GUIDANCE.replace("VERSION", version).replace("MULTIPLIER", multiplier + "f")),
                List.of("example.DevGuidance"));
    }

    /**
     * @param project    the plugin project folder; {@code target/classes} is emptied first
     * @param id         the plugin id
     * @param version    the plugin version
     * @param sources    class name to source text
     * @param extensions the extension class names (PF4J's index)
     * @return the project folder
     */
    static Path build(Path project, String id, String version, Map<String, String> sources,
            List<String> extensions) {
        try {
            Path classes = project.resolve("target").resolve("classes");
            delete(classes);
            Files.createDirectories(classes.resolve("META-INF"));
            Path src = project.resolve("src-" + version);
            List<String> args = new ArrayList<>(List.of("-proc:none", "-d", classes.toString(), "-cp",
                    System.getProperty("java.class.path")));
            for (Map.Entry<String, String> s : sources.entrySet()) {
                Path file = src.resolve(s.getKey().replace('.', '/') + ".java");
                Files.createDirectories(file.getParent());
                Files.writeString(file, s.getValue());
                args.add(file.toString());
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            assertThat(javac.run(null, null, null, args.toArray(String[]::new))).as("javac").isZero();
            Files.writeString(classes.resolve("META-INF").resolve("extensions.idx"),
                    String.join("\n", extensions) + "\n", StandardCharsets.UTF_8);
            Files.writeString(classes.resolve("plugin.properties"), "plugin.id=" + id + "\nplugin.version="
                    + version + "\nplugin.requires=>=0.2.0 & <1.0.0\nplugin.provider=a test\n",
                    StandardCharsets.ISO_8859_1);
            return project;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
