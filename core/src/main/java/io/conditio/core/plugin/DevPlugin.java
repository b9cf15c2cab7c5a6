package io.conditio.core.plugin;

import com.google.inject.Injector;
import io.conditio.api.AfterStepCallback;
import io.conditio.api.BeforeStepCallback;
import io.conditio.api.Conditioner;
import io.conditio.api.ControlPreprocessor;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.PluginFailureException;
import io.conditio.api.SchedulerProvider;
import io.conditio.api.SpiVersion;
import io.conditio.api.WeightPatcher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginState;
import org.pf4j.PluginStateEvent;
import org.pf4j.PluginWrapper;
import org.pf4j.RuntimeMode;

/**
 * A plugin loaded from its build output instead of a jar: a Maven project folder (its {@code target/classes}) or a
 * classes folder itself. Each load copies the build output into a snapshot folder, laid out as PF4J's development
 * mode expects ({@code target/classes}, {@code target/lib}, {@code plugin.properties}), and loads the snapshot with
 * a PF4J manager of its own in {@link RuntimeMode#DEVELOPMENT}. The copy is what makes a reload safe: the build
 * rewrites {@code target/classes} while the running version still loads classes from its folder lazily, and a build
 * that fails half way must not break the version that runs.
 */
final class DevPlugin {
    /** The extension points a loaded plugin is checked against: its extensions of each are created once. */
    static final List<Class<?>> EXTENSION_POINTS = List.of(Conditioner.class, GuidanceProvider.class,
            SchedulerProvider.class, WeightPatcher.class, ControlPreprocessor.class, BeforeStepCallback.class,
            AfterStepCallback.class);

    private final Path given;
    private final Path classes;
    private final Path libs;
    private final List<Path> descriptors;
    volatile Loaded current;
    /** The build output's state when it was last loaded or tried. */
    volatile String fingerprint;

    private DevPlugin(Path given, Path classes, Path libs, List<Path> descriptors) {
        this.given = given;
        this.classes = classes;
        this.libs = libs;
        this.descriptors = descriptors;
    }

    /**
     * @param dir a plugin project folder holding {@code target/classes}, or a classes folder
     * @return the plugin, not loaded yet
     * @throws PluginFailureException when the folder is neither
     */
    static DevPlugin of(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) {
            throw new PluginFailureException("development plugin folder not found: " + abs);
        }
        Path target = abs.resolve("target").resolve("classes");
        if (Files.isDirectory(target)) {
            return new DevPlugin(abs, target, abs.resolve("target").resolve("lib"), List.of(
                    target.resolve("plugin.properties"), abs.resolve("plugin.properties"),
                    target.resolve("META-INF").resolve("MANIFEST.MF")));
        }
        if (Files.isRegularFile(abs.resolve("META-INF").resolve("extensions.idx"))
                || Files.isRegularFile(abs.resolve("plugin.properties"))) {
            Path parent = abs.getParent();
            Path project = parent != null && parent.getFileName() != null
                    && parent.getFileName().toString().equals("target") ? parent.getParent() : null;
            List<Path> d = new ArrayList<>(List.of(abs.resolve("plugin.properties")));
            if (project != null) {
                d.add(project.resolve("plugin.properties"));
            }
            d.add(abs.resolve("META-INF").resolve("MANIFEST.MF"));
            return new DevPlugin(abs, abs, parent == null ? abs.resolve("lib") : parent.resolve("lib"), d);
        }
        throw new PluginFailureException("development plugin folder " + abs + " holds no build output: expected a "
                + "plugin project folder with target/classes (run mvn compile in it first) or a classes folder "
                + "with META-INF/extensions.idx or plugin.properties");
    }

    /** @return the folder as the operator named it, absolute */
    Path folder() {
        return given;
    }

    /**
     * @return a digest of the build output's file names, sizes and modification times (classes, jars and
     *     descriptors); "missing" while the classes folder does not exist
     */
    String fingerprintNow() {
        if (!Files.isDirectory(classes)) {
            return "missing";
        }
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<Path> roots = new ArrayList<>(List.of(classes));
            if (Files.isDirectory(libs)) {
                roots.add(libs);
            }
            roots.addAll(descriptors.stream().filter(p -> !p.startsWith(classes)).toList());
            for (Path root : roots) {
                if (!Files.exists(root)) {
                    continue;
                }
                try (Stream<Path> files = Files.walk(root)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                        md.update((f + "\0" + a.size() + "\0" + a.lastModifiedTime().toMillis() + "\n")
                                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    }
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | UncheckedIOException e) {
            // a build deleting files while they are listed: not settled yet
            return "unreadable: " + e.getMessage();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Why a load was refused, in words, for one report line. */
    static final class LoadFailure extends Exception {
        LoadFailure(String reason) {
            super(reason, null, false, false);
        }
    }

    /**
     * Copies the build output into {@code snapshot} and loads and starts it.
     *
     * @param snapshot an absent folder to copy into; deleted again when the load fails
     * @param injector the host's injector, parent of the plugin's child injector
     * @param taken    plugin ids that are loaded otherwise, with where from; the plugin may not use one of them
     * @return the started plugin, its extensions created
     * @throws LoadFailure saying why it cannot run: no build output, no or bad descriptor, SPI range, a class that
     *     does not load, a failed start, no extensions, an extension Guice cannot create
     */
    Loaded load(Path snapshot, Injector injector, Map<String, String> taken) throws LoadFailure {
        if (!Files.isDirectory(classes)) {
            throw new LoadFailure(classes + " does not exist (is the build running, or was it cleaned?)");
        }
        Optional<Path> descriptor = descriptors.stream().filter(Files::isRegularFile).findFirst();
        if (descriptor.isEmpty()) {
            throw new LoadFailure("no plugin descriptor: expected plugin.properties (plugin.id, plugin.version, "
                    + "plugin.requires) in " + classes + " or its project folder, or META-INF/MANIFEST.MF with "
                    + "Plugin-Id and Plugin-Version in " + classes);
        }
        Loaded loaded = null;
        try {
            Path devClasses = snapshot.resolve("target").resolve("classes");
            copyTree(classes, devClasses);
            if (Files.isDirectory(libs)) {
                copyTree(libs, snapshot.resolve("target").resolve("lib"));
            }
            if (descriptor.get().getFileName().toString().equals("plugin.properties")) {
                Files.copy(descriptor.get(), snapshot.resolve("plugin.properties"),
                        StandardCopyOption.REPLACE_EXISTING);
            }
            DevManager manager = new DevManager(snapshot.getParent(), injector);
            loaded = new Loaded(this, manager, snapshot);
            String id;
            try {
                id = manager.loadPlugin(snapshot);
            } catch (RuntimeException e) {
                throw new LoadFailure("cannot read its plugin descriptor " + descriptor.get() + ": "
                        + PluginHost.rootMessage(e));
            }
            PluginWrapper w = manager.getPlugin(id);
            loaded.identify(id, w.getDescriptor().getVersion());
            String elsewhere = taken.get(id);
            if (elsewhere != null) {
                throw new LoadFailure("plugin id '" + id + "' is already loaded from " + elsewhere
                        + "; give this one another Plugin-Id");
            }
            String requires = w.getDescriptor().getRequires();
            if (!manager.getVersionManager().checkVersionConstraint(SpiVersion.current(), requires)) {
                throw new LoadFailure("requires Conditio SPI " + requires + " but this host provides "
                        + SpiVersion.current());
            }
            List<String> names = new ArrayList<>(manager.getExtensionClassNames(id));
            if (names.isEmpty()) {
                throw new LoadFailure("no extensions: META-INF/extensions.idx is missing or empty in " + classes
                        + " (is PF4J's annotation processor on the compiler's path, and the classes annotated "
                        + "@Extension?)");
            }
            Collections.sort(names);
            for (String name : names) {
                try {
                    Class.forName(name, true, w.getPluginClassLoader());
                } catch (ClassNotFoundException e) {
                    throw new LoadFailure("extension class " + name + " listed in META-INF/extensions.idx is not "
                            + "in " + classes);
                } catch (LinkageError e) {
                    throw new LoadFailure("extension class " + name + " cannot be loaded: " + e);
                }
            }
            if (manager.startPlugin(id) != PluginState.STARTED) {
                throw new LoadFailure("failed to start: " + (w.getFailedException() == null
                        ? "state " + w.getPluginState() : PluginHost.startFailure(w)));
            }
            int created = 0;
            for (Class<?> point : EXTENSION_POINTS) {
                try {
                    created += loaded.extensions(point).size();
                } catch (RuntimeException | LinkageError e) {
                    throw new LoadFailure(PluginHost.rootMessage(e));
                }
            }
            if (created == 0) {
                throw new LoadFailure("none of its extensions " + names + " implements a Conditio extension "
                        + "point (Conditioner, GuidanceProvider, SchedulerProvider, WeightPatcher, "
                        + "ControlPreprocessor, BeforeStepCallback, AfterStepCallback)");
            }
            return loaded;
        } catch (IOException e) {
            if (loaded != null) {
                loaded.close();
            } else {
                deleteTree(snapshot);
            }
            throw new LoadFailure("cannot copy the build output of " + given + ": " + e.getMessage());
        } catch (LoadFailure | RuntimeException | Error e) {
            if (loaded != null) {
                loaded.close();
            } else {
                deleteTree(snapshot);
            }
            throw e;
        }
    }

    /** One load of a development plugin: its own PF4J manager, its snapshot folder, its extensions. */
    static final class Loaded implements AutoCloseable {
        private final DevPlugin plugin;
        private final DevManager manager;
        private final Path snapshot;
        private final Map<Class<?>, List<?>> cache = new ConcurrentHashMap<>();
        private String id = "?";
        private String version = "?";
        private boolean closed;

        Loaded(DevPlugin plugin, DevManager manager, Path snapshot) {
            this.plugin = plugin;
            this.manager = manager;
            this.snapshot = snapshot;
        }

        void identify(String id, String version) {
            this.id = id;
            this.version = version;
        }

        /** @return the plugin id */
        String id() {
            return id;
        }

        /** @return the plugin version */
        String version() {
            return version;
        }

        DevPlugin plugin() {
            return plugin;
        }

        PluginWrapper wrapper() {
            return manager.getPlugin(id);
        }

        /** @return this load's extensions of one point, created once, in PF4J's order */
        @SuppressWarnings("unchecked")
        <T> List<T> extensions(Class<T> type) {
            return (List<T>) cache.computeIfAbsent(type, t -> List.copyOf(manager.getExtensions(type, id)));
        }

        /** @return the plugin when the class is one of this load's, else null */
        PluginWrapper which(Class<?> c) {
            return manager.whichPlugin(c);
        }

        Set<String> extensionClassNames() {
            return manager.getExtensionClassNames(id);
        }

        /** Stops and unloads the plugin (its class loader is closed) and deletes the snapshot. */
        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            cache.clear();
            try {
                if (manager.getPlugin(id) != null) {
                    manager.stopPlugin(id);
                    manager.unloadPlugin(id);
                }
            } catch (RuntimeException e) {
                // a plugin whose stop() fails is unloaded all the same; nothing else would run its code
                manager.unloadPlugins();
            } finally {
                deleteTree(snapshot);
            }
        }
    }

    /** PF4J in development mode, one plugin, extensions created through Guice. */
    static final class DevManager extends DefaultPluginManager {
        private GuiceExtensionFactory factory;

        DevManager(Path root, Injector injector) {
            super(List.of(root));
            setSystemVersion(SpiVersion.current());
            factory.setParent(injector);
            addPluginStateListener((PluginStateEvent e) -> {
                if (e.getPluginState() != PluginState.STARTED) {
                    factory.drop(e.getPlugin().getPluginId());
                }
            });
        }

        @Override
        public RuntimeMode getRuntimeMode() {
            return RuntimeMode.DEVELOPMENT;
        }

        @Override
        protected ExtensionFactory createExtensionFactory() {
            factory = new GuiceExtensionFactory(this, true);
            return factory;
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.REPLACE_EXISTING);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            // a snapshot left in the temp folder is harmless; the host goes on
        }
    }
}
