package io.conditio.core.plugin;

import com.google.inject.Injector;
import io.conditio.api.Conditioner;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.Ordinals;
import io.conditio.api.PluginFailureException;
import io.conditio.api.SpiVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.HashMap;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.pf4j.BasePluginRepository;
import org.pf4j.CompoundPluginRepository;
import org.pf4j.DefaultPluginManager;
import org.pf4j.Extension;
import org.pf4j.JarPluginRepository;
import org.pf4j.PluginAlreadyLoadedException;
import org.pf4j.PluginRepository;
import org.pf4j.util.AndFileFilter;
import org.pf4j.util.DirectoryFileFilter;
import org.pf4j.util.HiddenFilter;
import org.pf4j.util.NotFileFilter;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginState;
import org.pf4j.PluginStateEvent;
import org.pf4j.PluginWrapper;

/**
 * Loads plugin jars (and exploded plugin folders) from plugin directories with PF4J, checks each plugin's {@code Plugin-Requires}
 * against the SPI version, starts them, and hands out their extensions, created through Guice and cached per
 * extension point (PF4J itself makes new instances on every {@code getExtensions} call).
 */
public final class PluginHost implements AutoCloseable {
    private final List<Path> directories;
    private final Manager manager;
    private final Map<Class<?>, List<?>> cache = new ConcurrentHashMap<>();

    private final List<String> problems = new CopyOnWriteArrayList<>();

    /**
     * PF4J, with what it cannot load reported as one line each instead of a logged stack trace: jars and exploded
     * plugin folders only (zip archives are never unpacked), the lock file enforced where present.
     */
    private final class Manager extends DefaultPluginManager {
        private GuiceExtensionFactory factory;
        private final Map<Path, Optional<PluginLock>> locks = new HashMap<>();

        Manager(List<Path> roots) {
            super(roots);
        }

        @Override
        protected ExtensionFactory createExtensionFactory() {
            factory = new GuiceExtensionFactory(this);
            return factory;
        }

        @Override
        protected PluginRepository createPluginRepository() {
            // by file name, so which of two jars with one id loads does not depend on the file system's order
            JarPluginRepository jars = new JarPluginRepository(getPluginsRoots());
            jars.setComparator(java.util.Comparator.comparing(java.io.File::getName));
            BasePluginRepository folders = new BasePluginRepository(getPluginsRoots(), new AndFileFilter(
                    new DirectoryFileFilter(), new NotFileFilter(new HiddenFilter())));
            folders.setComparator(java.util.Comparator.comparing(java.io.File::getName));
            return new CompoundPluginRepository().add(jars).add(folders);
        }

        @Override
        protected PluginWrapper loadPluginFromPath(Path path) {
            String name = path.getFileName().toString();
            try {
                Optional<PluginLock> lock = locks.computeIfAbsent(path.toAbsolutePath().getParent(),
                        PluginLock::read);
                if (lock.isPresent()) {
                    Optional<String> refused = lock.get().refusal(path);
                    if (refused.isPresent()) {
                        problems.add("skipped " + name + ": " + refused.get());
                        return null;
                    }
                }
                if (Files.isRegularFile(path)) {
                    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(path.toFile())) {
                        zip.size();
                    } catch (IOException e) {
                        problems.add("skipped " + name + ": not a readable jar (" + e.getMessage() + ")");
                        return null;
                    }
                }
                org.pf4j.PluginDescriptor d;
                try {
                    d = getPluginDescriptorFinder().find(path);
                    if (d.getPluginId() == null || d.getPluginId().isBlank()) {
                        throw new IllegalArgumentException("no Plugin-Id");
                    }
                } catch (RuntimeException e) {
                    problems.add("skipped " + name + ": no plugin descriptor (expected Plugin-Id, Plugin-Version "
                            + "and Plugin-Class in META-INF/MANIFEST.MF or plugin.properties)");
                    return null;
                }
                PluginWrapper loaded = getPlugin(d.getPluginId());
                if (loaded != null) {
                    problems.add("skipped " + name + ": plugin id '" + d.getPluginId() + "' is already loaded from "
                            + loaded.getPluginPath().getFileName() + "; remove one of the two");
                    return null;
                }
                PluginWrapper w = super.loadPluginFromPath(path);
                if (w != null && lock.isPresent()) {
                    Optional<String> refused = lock.get().mismatch(path, w.getPluginId(),
                            w.getDescriptor().getVersion());
                    if (refused.isPresent()) {
                        unloadPlugin(w.getPluginId());
                        problems.add("skipped " + name + ": " + refused.get());
                        return null;
                    }
                }
                return w;
            } catch (PluginAlreadyLoadedException e) {
                PluginWrapper other = getPlugin(e.getPluginId());
                problems.add("skipped " + name + ": plugin id '" + e.getPluginId() + "' is already loaded"
                        + (other == null ? "" : " from " + other.getPluginPath().getFileName())
                        + "; remove one of the two");
                return null;
            } catch (PluginFailureException e) {
                throw e;
            } catch (RuntimeException e) {
                problems.add("skipped " + name + ": " + describeLoadFailure(path, e));
                return null;
            }
        }
    }

    private static String describeLoadFailure(Path path, Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = String.valueOf(root.getMessage());
        if (root instanceof java.util.zip.ZipException || message.contains("zip END header")) {
            return "not a readable jar (" + message + ")";
        }
        if (message.contains("Plugin-Id") || message.contains("plugin descriptor") || message.contains("manifest")
                || message.contains("plugin.properties") || message.contains("PluginDescriptorFinder")) {
            return "no plugin descriptor (expected Plugin-Id, Plugin-Version and Plugin-Class in "
                    + "META-INF/MANIFEST.MF or plugin.properties): " + message;
        }
        return message;
    }

    /**
     * Loads and starts every plugin in the given directories.
     *
     * @param directories plugin directories (jars or exploded plugin folders inside; zips are refused, never
     *                    unpacked); missing ones are errors. A file that cannot be loaded is skipped and reported
     *                    in {@link #problems()}; the others load.
     * @param injector    the host's injector, parent of each plugin's child injector
     */
    public PluginHost(List<Path> directories, Injector injector) {
        List<Path> dirs = new ArrayList<>();
        for (Path d : directories) {
            Path abs = d.toAbsolutePath().normalize();
            if (!Files.isDirectory(abs)) {
                throw new PluginFailureException("plugin directory not found: " + abs);
            }
            dirs.add(abs);
        }
        this.directories = List.copyOf(dirs);
        this.manager = new Manager(this.directories);
        manager.setSystemVersion(SpiVersion.current());
        manager.factory.setParent(injector);
        manager.addPluginStateListener((PluginStateEvent e) -> {
            if (e.getPluginState() != PluginState.STARTED) {
                manager.factory.drop(e.getPlugin().getPluginId());
                cache.clear();
            }
        });
        manager.loadPlugins();
        manager.startPlugins();
        for (Path dir : this.directories) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> f.getFileName().toString().endsWith(".zip")).sorted().forEach(f -> problems.add(
                        "skipped " + f.getFileName() + ": plugin archives (.zip) are not unpacked; ship the plugin "
                                + "as a jar, or unpack it into a folder yourself"));
            } catch (IOException e) {
                throw new PluginFailureException("cannot list plugin directory " + dir + ": " + e.getMessage(), e);
            }
        }
        for (PluginInfo info : plugins()) {
            if (!info.usable() && !info.state().equals("NOT_LOADED")) {
                problems.add("skipped " + info.path().getFileName() + " (" + info.id() + "@" + info.version() + "): "
                        + info.problem());
            }
        }
    }

    /**
     * @return one line per plugin file that was skipped and why (unreadable, no descriptor, duplicate id, SPI
     *     mismatch, failed start, untrusted under a lock file, zip archive); empty when everything loaded
     */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    /** @return the plugin directories, absolute */
    public List<Path> directories() {
        return directories;
    }

    /**
     * Extensions of one extension point from every started plugin, created once and cached.
     *
     * @param type the extension point
     * @param <T>  its type
     * @return the extensions sorted by {@code @Extension(ordinal)}, then id, then class name, as
     *         {@link Ordinals} documents; unmodifiable
     */
    @SuppressWarnings("unchecked")
    public <T> List<T> extensions(Class<T> type) {
        return (List<T>) cache.computeIfAbsent(type,
                t -> Collections.unmodifiableList(ordered(manager.getExtensions(type))));
    }

    /**
     * @param extensions extensions of one extension point, in any order
     * @param <T>        its type
     * @return a sorted copy: by {@code @Extension(ordinal)} (lower first), then id, then class name
     */
    static <T> List<T> ordered(List<T> extensions) {
        List<T> out = new ArrayList<>(extensions);
        out.sort(Comparator.comparingInt((T e) -> ordinal(e)).thenComparing(PluginHost::id)
                .thenComparing(e -> e.getClass().getName()));
        return out;
    }

    private static int ordinal(Object extension) {
        Extension a = extension.getClass().getAnnotation(Extension.class);
        return a == null ? Ordinals.DEFAULT : a.ordinal();
    }

    private static String id(Object extension) {
        if (extension instanceof Conditioner c) {
            return c.id();
        }
        if (extension instanceof GuidanceProvider g) {
            return g.id();
        }
        return extension.getClass().getName();
    }

    /**
     * @param extension an extension instance
     * @return {@code id@version} of the plugin that contributed it, or {@code host} for the host's own classes
     */
    public String origin(Object extension) {
        PluginWrapper w = manager.whichPlugin(extension.getClass());
        return w == null ? "host" : w.getPluginId() + "@" + w.getDescriptor().getVersion();
    }

    /**
     * @param extension an extension instance
     * @param spiVersion an SPI version, e.g. {@code 0.1.0}
     * @return true when the {@code Plugin-Requires} range of the extension's plugin admits that version (false for
     *         the host's own classes)
     */
    public boolean admits(Object extension, String spiVersion) {
        PluginWrapper w = manager.whichPlugin(extension.getClass());
        return w != null && manager.getVersionManager().checkVersionConstraint(spiVersion,
                w.getDescriptor().getRequires());
    }

    /** @return every plugin found, usable or not, plus files in the plugin directories PF4J could not read */
    public List<PluginInfo> plugins() {
        List<PluginInfo> out = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        for (PluginWrapper w : manager.getPlugins()) {
            seen.add(w.getPluginPath().toAbsolutePath().normalize());
            var d = w.getDescriptor();
            String problem = null;
            if (w.getPluginState() != PluginState.STARTED) {
                problem = "state " + w.getPluginState();
                if (!manager.getVersionManager().checkVersionConstraint(SpiVersion.current(), d.getRequires())) {
                    problem = "requires Conditio SPI " + d.getRequires() + " but this host provides "
                            + SpiVersion.current();
                } else if (w.getFailedException() != null) {
                    problem = "failed to start: " + startFailure(w);
                }
            }
            List<String> ext = new ArrayList<>(manager.getExtensionClassNames(w.getPluginId()));
            Collections.sort(ext);
            out.add(new PluginInfo(w.getPluginId(), d.getVersion(), d.getProvider(), d.getRequires(),
                    w.getPluginState().toString(), w.getPluginPath(), ext, problem));
        }
        for (Path dir : directories) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> {
                    String n = f.getFileName().toString();
                    return n.endsWith(".jar") || n.endsWith(".zip");
                }).filter(f -> !seen.contains(f.toAbsolutePath().normalize())
                        && !seen.contains(unzippedFolder(f))).sorted().forEach(f -> out.add(new PluginInfo(
                                f.getFileName().toString(), "?", "?", "?", "NOT_LOADED", f, List.of(),
                                skipReason(f))));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    private String skipReason(Path file) {
        String prefix = "skipped " + file.getFileName() + ": ";
        for (String p : problems) {
            if (p.startsWith(prefix)) {
                return p.substring(prefix.length());
            }
        }
        return "not a loadable plugin (no Plugin-Id in its manifest or plugin.properties?)";
    }

    /** PF4J reports a Plugin-Class it cannot instantiate as a NullPointerException; say what it is instead. */
    private String startFailure(PluginWrapper w) {
        Throwable e = w.getFailedException();
        String pluginClass = w.getDescriptor().getPluginClass();
        if (e instanceof NullPointerException && pluginClass != null && !pluginClass.isBlank()) {
            try {
                Class<?> c = Class.forName(pluginClass, false, w.getPluginClassLoader());
                if (!org.pf4j.Plugin.class.isAssignableFrom(c)) {
                    return "Plugin-Class " + pluginClass + " does not extend org.pf4j.Plugin";
                }
                return "Plugin-Class " + pluginClass + " could not be instantiated (it needs a public no-argument "
                        + "or PluginWrapper constructor)";
            } catch (ClassNotFoundException | LinkageError notFound) {
                return "Plugin-Class " + pluginClass + " is not in the jar";
            }
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    private static Path unzippedFolder(Path zip) {
        String n = zip.getFileName().toString();
        return zip.resolveSibling(n.substring(0, n.length() - 4)).toAbsolutePath().normalize();
    }

    /** Stops and unloads every plugin. */
    @Override
    public void close() {
        cache.clear();
        // one by one over a copy: PF4J's stopPlugins() iterates the list that stopping modifies
        List<PluginWrapper> started = new ArrayList<>(manager.getStartedPlugins());
        Collections.reverse(started);
        for (PluginWrapper w : started) {
            manager.stopPlugin(w.getPluginId());
        }
        manager.unloadPlugins();
    }
}
