package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Builds a plugin jar from Java sources as a third-party author would: javac against the api, a PF4J manifest. */
final class PluginJars {
    private PluginJars() {
    }

    /**
     * @param work       an empty folder to compile in
     * @param pluginId   the {@code Plugin-Id}; the jar is {@code plugins/<id>.jar} under {@code work}
     * @param sources    class name (e.g. {@code example.Hook}) to source text
     * @param extensions the extension class names (what PF4J's annotation processor lists in extensions.idx)
     * @return the folder holding the jar, to pass to {@code Conditio.start}
     */
    static Path build(Path work, String pluginId, Map<String, String> sources, List<String> extensions) {
        return build(work, pluginId, ">=0.1.0 & <1.0.0", sources, extensions);
    }

    /**
     * As {@link #build(Path, String, Map, List)}, with the plugin's {@code Plugin-Requires} range.
     *
     * @param work       an empty folder to compile in
     * @param pluginId   the {@code Plugin-Id}
     * @param requires   the {@code Plugin-Requires} range, e.g. {@code >=0.2.0 & <1.0.0}
     * @param sources    class name to source text
     * @param extensions the extension class names
     * @return the folder holding the jar
     */
    static Path build(Path work, String pluginId, String requires, Map<String, String> sources,
            List<String> extensions) {
        try {
            List<String> args = new ArrayList<>(List.of("-proc:none", "-d", work.resolve("classes").toString(),
                    "-cp", System.getProperty("java.class.path")));
            for (Map.Entry<String, String> s : sources.entrySet()) {
                Path file = work.resolve("src").resolve(s.getKey().replace('.', '/') + ".java");
                Files.createDirectories(file.getParent());
                Files.writeString(file, s.getValue());
                args.add(file.toString());
            }
            Files.createDirectories(work.resolve("classes"));
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            assertThat(javac.run(null, null, null, args.toArray(String[]::new))).as("javac").isZero();
            Path plugins = Files.createDirectories(work.resolve("plugins"));
            jar(work.resolve("classes"), plugins.resolve(pluginId + ".jar"), pluginId, requires, extensions);
            return plugins;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void jar(Path classes, Path jar, String pluginId, String requires, List<String> extensions)
            throws IOException {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(new Attributes.Name("Plugin-Id"), pluginId);
        a.put(new Attributes.Name("Plugin-Version"), "1.0.0");
        a.put(new Attributes.Name("Plugin-Requires"), requires);
        a.put(new Attributes.Name("Plugin-Provider"), "a test");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, mf);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                j.write(Files.readAllBytes(f));
                j.closeEntry();
            }
            j.putNextEntry(new JarEntry("META-INF/extensions.idx"));
            j.write((String.join("\n", extensions) + "\n").getBytes(StandardCharsets.UTF_8));
            j.closeEntry();
        }
    }
}
