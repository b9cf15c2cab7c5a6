package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.Conditioner;
import io.conditio.api.PluginFailureException;
import io.conditio.api.SchedulerProvider;
import io.conditio.core.Conditio;
import io.conditio.core.plugin.PluginInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built plugin jars, loaded by PF4J from a directory as users load them. */
class PluginHostTest {

    @Test
    void builtPluginsLoadFromTheDirectoryAndStart() {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()))) {
            List<PluginInfo> plugins = conditio.plugins().plugins();
            assertThat(plugins).extracting(PluginInfo::id).contains("schedulers", "text-conditioning");
            assertThat(plugins).allSatisfy(p -> {
                assertThat(p.state()).isEqualTo("STARTED");
                assertThat(p.usable()).isTrue();
                assertThat(p.requires()).isEqualTo(">=0.2.0 & <1.0.0");
            });
        }
    }

    @Test
    void pluginClassesAreNotOnTheTestClassPath() {
        assertThatThrownBy(() -> Class.forName("io.conditio.plugins.text.TextConditioner"))
                .isInstanceOf(ClassNotFoundException.class);
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()))) {
            Conditioner text = conditio.plugins().extensions(Conditioner.class).stream()
                    .filter(c -> c.id().equals("text")).findFirst().orElseThrow();
            assertThat(text.getClass().getClassLoader()).isNotSameAs(getClass().getClassLoader());
            assertThat(text.getClass().getClassLoader().getClass().getName()).isEqualTo("org.pf4j.PluginClassLoader");
            assertThat(conditio.plugins().origin(text)).isEqualTo("text-conditioning@0.1.0");
        }
    }

    @Test
    void extensionsAreCreatedOnceAndCached() {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()))) {
            List<SchedulerProvider> first = conditio.plugins().extensions(SchedulerProvider.class);
            List<SchedulerProvider> second = conditio.plugins().extensions(SchedulerProvider.class);
            assertThat(first).isNotEmpty();
            for (int i = 0; i < first.size(); i++) {
                assertThat(second.get(i)).isSameAs(first.get(i));
            }
        }
    }

    @Test
    void pluginRequiringANewerSpiIsRefusedAndReported(@TempDir Path dir) throws IOException {
        Path original = jarOf("conditio-plugin-text-conditioning");
        rewriteManifest(original, dir.resolve("future-text.jar"), "future-text", ">=9.0.0");

        try (Conditio conditio = Conditio.start(List.of(dir))) {
            PluginInfo info = conditio.plugins().plugins().get(0);
            assertThat(info.id()).isEqualTo("future-text");
            assertThat(info.usable()).isFalse();
            assertThat(info.problem()).contains(">=9.0.0").contains(io.conditio.api.SpiVersion.current());
            assertThat(conditio.plugins().extensions(Conditioner.class)).isEmpty();
        }
    }

    @Test
    void aJarWithoutPluginManifestIsReportedAsNotLoaded(@TempDir Path dir) throws IOException {
        try (OutputStream out = Files.newOutputStream(dir.resolve("not-a-plugin.jar"));
                JarOutputStream jar = new JarOutputStream(out, new Manifest())) {
            jar.putNextEntry(new JarEntry("readme.txt"));
            jar.write("hello".getBytes());
        }
        try (Conditio conditio = Conditio.start(List.of(dir))) {
            assertThat(conditio.plugins().plugins()).singleElement().satisfies(p -> {
                assertThat(p.state()).isEqualTo("NOT_LOADED");
                assertThat(p.problem()).contains("Plugin-Id");
            });
        }
    }

    @Test
    void aMissingPluginDirectoryIsAnErrorNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("nope");
        assertThatThrownBy(() -> Conditio.start(List.of(missing)))
                .isInstanceOf(PluginFailureException.class)
                .hasMessageContaining(missing.toString());
    }

    static Path jarOf(String artifactPrefix) throws IOException {
        try (Stream<Path> files = Files.list(TinyFixtures.pluginDir())) {
            return files.filter(f -> f.getFileName().toString().startsWith(artifactPrefix)).findFirst()
                    .orElseThrow();
        }
    }

    static void rewriteManifest(Path from, Path to, String id, String requires) throws IOException {
        try (InputStream in = Files.newInputStream(from); JarInputStream src = new JarInputStream(in)) {
            Manifest mf = new Manifest(src.getManifest());
            mf.getMainAttributes().put(new Attributes.Name("Plugin-Id"), id);
            mf.getMainAttributes().put(new Attributes.Name("Plugin-Requires"), requires);
            try (OutputStream out = Files.newOutputStream(to); JarOutputStream dst = new JarOutputStream(out, mf)) {
                for (JarEntry e = src.getNextJarEntry(); e != null; e = src.getNextJarEntry()) {
                    dst.putNextEntry(new JarEntry(e.getName()));
                    src.transferTo(dst);
                    dst.closeEntry();
                }
            }
        }
    }
}
