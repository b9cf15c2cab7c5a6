package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.PluginFailureException;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Development mode: a plugin loaded by PF4J straight from its project's {@code target/classes}, reloaded after a
 * rebuild in a host that keeps running, a broken rebuild refused while the previous version keeps answering.
 */
class DevModeTest {

    private static GenerationRequest request(double factor) {
        return GenerationRequest.builder().setPrompt("a red circle").optSteps(2).optSeed(5)
                .optParameter("dev_factor", factor).build();
    }

    @Test
    void generateLoadsThePluginFromItsBuildOutput(@TempDir Path dir) {
        Path project = DevPlugins.guidance(dir.resolve("dev-guidance"), "1.0.0", 1f);
        Path out = dir.resolve("dev.png");
        CliRun run = CliRun.conditio("generate", "--plugins", TinyFixtures.pluginDir().toString(),
                "--plugin-dev", project.toString(), "--model", TinyFixtures.model("sd-tiny").toString(),
                "--prompt", "a red circle", "--steps", "2", "--seed", "5", "--param", "dev_factor=0.5",
                "--out", out.toString(), "--quiet");
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("dev-guidance 1.0.0(0.5)");
        assertThat(run.err()).contains("plugin dev-guidance 1.0.0 runs in development mode from " + project);
        assertThat(out).isRegularFile();

        // the classes folder itself is accepted too; the plugins listing names where it runs from
        CliRun list = CliRun.conditio("plugins", "--plugins", TinyFixtures.pluginDir().toString(),
                "--plugin-dev", project.resolve("target/classes").toString());
        assertThat(list.out()).contains("dev-guidance 1.0.0  STARTED  requires >=0.2.0 & <1.0.0  (development mode: "
                + project.resolve("target/classes") + ")").contains("example.DevGuidance");
        CliRun params = CliRun.conditio("plugins", "--parameters", "--plugins", TinyFixtures.pluginDir().toString(),
                "--plugin-dev", project.toString());
        assertThat(params.out()).containsPattern("dev_factor +number in \\[0, 2\\]")
                .contains("declared by guidance dev-guidance (dev-guidance@1.0.0)");
    }

    @Test
    void aFolderWithoutBuildOutputOrDescriptorIsRefusedNamingWhatIsExpected(@TempDir Path dir) throws Exception {
        CliRun run = CliRun.conditio("generate", "--plugins", TinyFixtures.pluginDir().toString(),
                "--plugin-dev", dir.toString(), "--model",
                TinyFixtures.model("sd-tiny").toString(), "--prompt", "x", "--out", dir.resolve("x.png").toString());
        assertThat(run.code()).isNotZero();
        assertThat(run.err()).contains("development plugin folder " + dir + " holds no build output")
                .contains("target/classes (run mvn compile in it first)");

        Path project = DevPlugins.guidance(dir.resolve("p"), "1.0.0", 1f);
        Files.delete(project.resolve("target/classes/plugin.properties"));
        assertThatThrownBy(() -> Conditio.start(List.of(TinyFixtures.pluginDir()), List.of(project)))
                .isInstanceOf(PluginFailureException.class)
                .hasMessageContaining("development plugin " + project + " cannot be loaded: no plugin descriptor")
                .hasMessageContaining("plugin.properties");
    }

    @Test
    void aRebuildIsReloadedWithoutRestartAndABrokenOneKeepsThePreviousVersion(@TempDir Path dir) throws Exception {
        Path project = DevPlugins.guidance(dir.resolve("dev-guidance"), "1.0.0", 1f);
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()), List.of(project));
                Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
            GenerationResult v1 = pipeline.generate(request(0.5));
            assertThat(v1.provenance().get("guidance")).isEqualTo("dev-guidance 1.0.0(0.5)");
            WeakReference<ClassLoader> v1Loader = new WeakReference<>(loader(conditio));

            // version 2 behaves differently: the same request now scales by 0.25
            DevPlugins.guidance(project, "2.0.0", 0.5f);
            assertThat(conditio.plugins().reload()).containsExactly("reloaded dev-guidance 2.0.0");
            GenerationResult v2 = pipeline.generate(request(0.5));
            assertThat(v2.provenance().get("guidance")).isEqualTo("dev-guidance 2.0.0(0.25)");
            assertThat(v2.images().get(0).pixels()).isNotEqualTo(v1.images().get(0).pixels());
            assertThat(conditio.plugins().origin(provider(conditio))).isEqualTo("dev-guidance@2.0.0");

            // a rebuild that left a broken class file: refused, version 2 keeps answering with the same pixels
            Path classFile = project.resolve("target/classes/example/DevGuidance.class");
            Files.write(classFile, Arrays.copyOf(Files.readAllBytes(classFile), 40));
            List<String> failed = conditio.plugins().reload();
            assertThat(failed).hasSize(1);
            assertThat(failed.get(0)).startsWith("reload of dev-guidance failed: extension class example.DevGuidance "
                    + "cannot be loaded: java.lang.ClassFormatError").endsWith("(still running 2.0.0)");
            GenerationResult still = pipeline.generate(request(0.5));
            assertThat(still.provenance().get("guidance")).isEqualTo("dev-guidance 2.0.0(0.25)");
            assertThat(still.images().get(0).pixels()).isEqualTo(v2.images().get(0).pixels());

            // no descriptor, and a declaration the host refuses, are reported the same way
            DevPlugins.guidance(project, "3.0.0", 1f);
            Files.delete(project.resolve("target/classes/plugin.properties"));
            assertThat(conditio.plugins().reload()).singleElement().asString()
                    .startsWith("reload of dev-guidance failed: no plugin descriptor").endsWith("(still running 2.0.0)");
            DevPlugins.build(project, "dev-guidance", "3.0.0", Map.of("example.DevGuidance", DevPlugins.GUIDANCE
                    .replace("builder(\"dev_factor\"", "builder(\"dev factor\"")
                    .replace("MULTIPLIER", "1f")), List.of("example.DevGuidance"));
            assertThat(conditio.plugins().reload()).singleElement().asString()
                    .startsWith("reload of dev-guidance failed: its parameter declarations are refused: ")
                    .contains("parameter name must be").endsWith("(still running 2.0.0)");
            assertThat(pipeline.generate(request(0.5)).provenance().get("guidance"))
                    .isEqualTo("dev-guidance 2.0.0(0.25)");

            // the version that was replaced is unloaded and its class loader can be collected
            assertThat(collected(v1Loader)).as("the class loader of version 1 is collected after the reload").isTrue();
        }
    }

    @Test
    void aGenerationRunningDuringAReloadFinishesWithTheVersionItStartedWith(@TempDir Path dir) throws Exception {
        Path project = DevPlugins.guidance(dir.resolve("dev-guidance"), "1.0.0", 1f);
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()), List.of(project));
                Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
            CountDownLatch reached = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            GenerationRequest held = GenerationRequest.builder().setPrompt("a red circle").optSteps(2).optSeed(5)
                    .optParameter("dev_factor", 0.5).optBeforeStep(step -> {
                        reached.countDown();
                        try {
                            go.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }).build();
            Future<GenerationResult> running = pipeline.submit(held);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            WeakReference<ClassLoader> v1Loader = new WeakReference<>(loader(conditio));

            DevPlugins.guidance(project, "2.0.0", 0.5f);
            assertThat(conditio.plugins().reload()).containsExactly("reloaded dev-guidance 2.0.0");
            assertThat(pipeline.generate(request(0.5)).provenance().get("guidance"))
                    .isEqualTo("dev-guidance 2.0.0(0.25)");
            assertThat(v1Loader.get()).as("version 1 stays loaded while a generation uses it").isNotNull();
            go.countDown();
            assertThat(running.get(60, TimeUnit.SECONDS).provenance().get("guidance"))
                    .isEqualTo("dev-guidance 1.0.0(0.5)");
            assertThat(collected(v1Loader)).as("version 1 is released once its last generation ended").isTrue();
        }
    }

    @Test
    void theWatchReloadsOnceTheBuildOutputSettled(@TempDir Path dir) throws Exception {
        Path project = DevPlugins.guidance(dir.resolve("dev-guidance"), "1.0.0", 1f);
        Path built = DevPlugins.guidance(dir.resolve("staging"), "2.0.0", 0.5f).resolve("target/classes");
        Path classes = project.resolve("target/classes");
        List<String> lines = new CopyOnWriteArrayList<>();
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()), List.of(project));
                AutoCloseable watch = conditio.plugins().watch(Duration.ofMillis(50), Duration.ofMillis(1500),
                        lines::add)) {
            Thread.sleep(300);
            assertThat(lines).as("nothing changed yet").isEmpty();
            // a build that cleans, then writes the class, the index and the descriptor a little apart: the watch
            // waits for the output to settle and loads it once, finished
            DevPlugins.delete(classes);
            Thread.sleep(100);
            Files.createDirectories(classes.resolve("example"));
            Files.copy(built.resolve("example/DevGuidance.class"), classes.resolve("example/DevGuidance.class"));
            Thread.sleep(100);
            Files.createDirectories(classes.resolve("META-INF"));
            Files.copy(built.resolve("META-INF/extensions.idx"), classes.resolve("META-INF/extensions.idx"));
            Thread.sleep(100);
            for (String inner : List.of("example/DevGuidance$1.class", "plugin.properties")) {
                Files.copy(built.resolve(inner), classes.resolve(inner));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (lines.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Thread.sleep(300);
            assertThat(lines).containsExactly("reloaded dev-guidance 2.0.0");
            assertThat(conditio.plugins().origin(provider(conditio))).isEqualTo("dev-guidance@2.0.0");
        }
    }

    @Test
    void aJarWithTheSameIdIsSkippedForTheDevelopmentBuild(@TempDir Path dir) {
        Path project = DevPlugins.guidance(dir.resolve("dev-guidance"), "2.0.0", 1f);
        Path jars = PluginJars.build(dir.resolve("jar"), "dev-guidance", ">=0.2.0 & <1.0.0",
                Map.of("example.DevGuidance", DevPlugins.GUIDANCE.replace("VERSION", "jar")
                        .replace("MULTIPLIER", "1f")), List.of("example.DevGuidance"));
        try (Conditio conditio = Conditio.start(List.of(jars), List.of(project))) {
            assertThat(conditio.plugins().problems()).containsExactly("skipped dev-guidance.jar: plugin id "
                    + "'dev-guidance' is loaded in development mode from " + project + " instead");
            assertThat(conditio.plugins().extensions(GuidanceProvider.class)).singleElement()
                    .satisfies(g -> assertThat(conditio.plugins().origin(g)).isEqualTo("dev-guidance@2.0.0"));
        }
    }

    private static GuidanceProvider provider(Conditio conditio) {
        return conditio.plugins().extensions(GuidanceProvider.class).stream()
                .filter(g -> g.id().equals("dev-guidance")).findFirst().orElseThrow();
    }

    private static ClassLoader loader(Conditio conditio) {
        return provider(conditio).getClass().getClassLoader();
    }

    private static boolean collected(WeakReference<ClassLoader> ref) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (ref.get() != null && System.nanoTime() < deadline) {
            Heap.collect();
        }
        return ref.get() == null;
    }
}
