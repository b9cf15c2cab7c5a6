package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.GenerationRequest;
import io.conditio.api.PluginFailureException;
import io.conditio.core.Conditio;
import io.conditio.core.plugin.PluginInfo;
import io.conditio.core.plugin.PluginLock;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faulty plugin files beside good ones: each is skipped with one line naming the file and the fault, the good
 * plugins load and generate. The faulty jars are written here with java.util.jar (one with a Plugin class compiled
 * by the JDK's compiler whose start() throws).
 */
class FaultyPluginsTest {

    private static Path copyGood(Path dir) throws IOException {
        for (String jar : List.of("conditio-plugin-schedulers", "conditio-plugin-text-conditioning")) {
            Path from = PluginHostTest.jarOf(jar);
            Files.copy(from, dir.resolve(from.getFileName()));
        }
        return dir;
    }

    private static void jar(Path file, Map<String, String> manifest, Map<String, byte[]> entries) throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.forEach((k, v) -> mf.getMainAttributes().put(new Attributes.Name(k), v));
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, mf)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                jar.putNextEntry(new JarEntry(e.getKey()));
                jar.write(e.getValue());
            }
        }
    }

    private static Map<String, String> descriptor(String id, String pluginClass, String requires) {
        return Map.of("Plugin-Id", id, "Plugin-Version", "1.2.3", "Plugin-Class", pluginClass,
                "Plugin-Requires", requires);
    }

    /** Compiles a Plugin subclass whose start() throws, with PF4J from the test class path. */
    private static byte[] throwingPluginClass(Path work) throws IOException {
        Path src = Files.createDirectories(work.resolve("src/faulty"));
        Files.writeString(src.resolve("ThrowingPlugin.java"), """
                package faulty;
                public class ThrowingPlugin extends org.pf4j.Plugin {
                    @Override
                    public void start() {
                        throw new IllegalStateException("licence server unreachable");
                    }
                }
                """);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Path classes = Files.createDirectories(work.resolve("classes"));
        int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
                src.resolve("ThrowingPlugin.java").toString());
        assertThat(rc).as("javac").isZero();
        return Files.readAllBytes(classes.resolve("faulty/ThrowingPlugin.class"));
    }

    @Test
    void eachFaultyFileIsSkippedWithOneLineAndTheRestLoad(@TempDir Path dir, @TempDir Path work,
            TestReporter reporter) throws Exception {
        copyGood(dir);
        Files.write(dir.resolve("corrupt.jar"), "this is not a zip file at all".getBytes(StandardCharsets.UTF_8));
        byte[] half = Files.readAllBytes(PluginHostTest.jarOf("conditio-plugin-film-conditioning"));
        Files.write(dir.resolve("truncated.jar"), java.util.Arrays.copyOf(half, half.length / 2));
        jar(dir.resolve("no-descriptor.jar"), Map.of(), Map.of("readme.txt", "hi".getBytes()));
        jar(dir.resolve("future.jar"), descriptor("future", "org.pf4j.Plugin", ">=9.0.0"), Map.of());
        Files.copy(PluginHostTest.jarOf("conditio-plugin-schedulers"), dir.resolve("zz-duplicate-schedulers.jar"));
        jar(dir.resolve("missing-class.jar"), descriptor("missing-class", "com.example.Nowhere", ">=0.1.0"),
                Map.of());
        jar(dir.resolve("start-throws.jar"), descriptor("start-throws", "faulty.ThrowingPlugin", ">=0.1.0"),
                Map.of("faulty/ThrowingPlugin.class", throwingPluginClass(work)));
        try (OutputStream out = Files.newOutputStream(dir.resolve("archive.zip"));
                ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("../../escaped.txt"));
            zip.write("zip-slip".getBytes());
        }
        Files.writeString(dir.resolve("README.txt"), "not a plugin, ignored");

        try (Conditio conditio = Conditio.start(List.of(dir))) {
            List<String> problems = conditio.plugins().problems();
            problems.forEach(p -> reporter.publishEntry("plugin problem: " + p));
            List<String> expected = List.of("corrupt.jar", "truncated.jar", "no-descriptor.jar", "future.jar",
                    "zz-duplicate-schedulers.jar", "missing-class.jar", "start-throws.jar", "archive.zip");
            assertThat(problems).hasSize(expected.size());
            for (String file : expected) {
                assertThat(problems).as(file).filteredOn(p -> p.startsWith("skipped " + file)).hasSize(1);
            }
            assertThat(problems).allSatisfy(p -> assertThat(p).doesNotContain("\n").doesNotContain("\tat ")
                    .hasSizeLessThan(400));
            assertThat(line(problems, "corrupt.jar")).contains("not a readable jar");
            assertThat(line(problems, "no-descriptor.jar")).contains("no plugin descriptor").contains("Plugin-Id");
            assertThat(line(problems, "future.jar")).contains(">=9.0.0").contains(io.conditio.api.SpiVersion.current());
            assertThat(line(problems, "zz-duplicate-schedulers.jar")).contains("'schedulers' is already loaded")
                    .contains("conditio-plugin-schedulers-0.1.0.jar");
            assertThat(line(problems, "missing-class.jar")).contains("com.example.Nowhere is not in the jar");
            assertThat(line(problems, "start-throws.jar")).contains("failed to start")
                    .contains("licence server unreachable");
            assertThat(line(problems, "archive.zip")).contains("not unpacked");
            assertThat(dir.resolve("../../escaped.txt").normalize()).doesNotExist();
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.filter(Files::isDirectory)).as("nothing unpacked").isEmpty();
            }

            assertThat(conditio.plugins().plugins()).filteredOn(PluginInfo::usable).extracting(PluginInfo::id)
                    .containsExactlyInAnyOrder("schedulers", "text-conditioning");
            try (Pipeline p = conditio.open(TinyFixtures.model("sd-tiny"))) {
                assertThat(p.generate(GenerationRequest.builder().setPrompt("a red circle").optSteps(2).optSeed(1)
                        .build()).latents().size()).isEqualTo(4 * 8 * 8);
            }
        }
    }

    private static String line(List<String> problems, String file) {
        return problems.stream().filter(p -> p.startsWith("skipped " + file)).findFirst().orElseThrow();
    }

    @Test
    void withALockFileOnlyTheLockedJarsLoad(@TempDir Path dir, TestReporter reporter) throws Exception {
        copyGood(dir);
        List<PluginLock.Entry> locked = PluginLock.write(dir);
        assertThat(locked).extracting(PluginLock.Entry::id).containsExactly("schedulers", "text-conditioning");
        assertThat(locked).allSatisfy(e -> assertThat(e.sha256()).hasSize(64));

        // an unknown jar and a modified copy of a locked one
        PluginHostTest.rewriteManifest(PluginHostTest.jarOf("conditio-plugin-film-conditioning"),
                dir.resolve("film.jar"), "film-conditioning", ">=0.1.0 & <1.0.0");
        Path text = PluginHostTest.jarOf("conditio-plugin-text-conditioning");
        Path tampered = dir.resolve(text.getFileName());
        Files.delete(tampered);
        PluginHostTest.rewriteManifest(text, tampered, "text-conditioning", ">=0.1.0 & <1.0.0");

        try (Conditio conditio = Conditio.start(List.of(dir))) {
            List<String> problems = conditio.plugins().problems();
            problems.forEach(p -> reporter.publishEntry("lock: " + p));
            assertThat(problems).hasSize(2);
            assertThat(line(problems, "film.jar")).contains("not trusted").contains(PluginLock.FILE_NAME)
                    .contains("schedulers@0.1.0");
            assertThat(line(problems, tampered.getFileName().toString())).contains("not trusted");
            assertThat(conditio.plugins().plugins()).filteredOn(PluginInfo::usable).extracting(PluginInfo::id)
                    .containsExactly("schedulers");
        }

        // re-locking trusts what is there now
        PluginLock.write(dir);
        try (Conditio conditio = Conditio.start(List.of(dir))) {
            assertThat(conditio.plugins().problems()).isEmpty();
            assertThat(conditio.plugins().plugins()).filteredOn(PluginInfo::usable).hasSize(3);
        }
    }

    @Test
    void aMalformedLockFileIsAnErrorNamingIt(@TempDir Path dir) throws Exception {
        copyGood(dir);
        Files.writeString(dir.resolve(PluginLock.FILE_NAME), "{\"plugins\": {\"schedulers\": {\"version\": 1}}}");
        assertThatThrownBy(() -> Conditio.start(List.of(dir))).isInstanceOf(PluginFailureException.class)
                .hasMessageContaining(PluginLock.FILE_NAME).hasMessageContaining("'schedulers'");
    }
}
