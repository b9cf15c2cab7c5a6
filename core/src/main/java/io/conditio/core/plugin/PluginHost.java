package io.conditio.core.plugin;

import com.google.inject.Injector;
import io.conditio.api.PluginFailureException;
import io.conditio.api.SpiVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginState;
import org.pf4j.PluginStateEvent;
import org.pf4j.PluginWrapper;

/**
 * Loads plugin jars and zips from plugin directories with PF4J, checks each plugin's {@code Plugin-Requires}
 * against the SPI version, starts them, and hands out their extensions, created through Guice and cached per
 * extension point (PF4J itself makes new instances on every {@code getExtensions} call).
 */
public final class PluginHost implements AutoCloseable {
    private final List<Path> directories;
    private final Manager manager;
    private final Map<Class<?>, List<?>> cache = new ConcurrentHashMap<>();

    private static final class Manager extends DefaultPluginManager {
        private GuiceExtensionFactory factory;

        Manager(List<Path> roots) {
            super(roots);
        }

        @Override
        protected ExtensionFactory createExtensionFactory() {
            factory = new GuiceExtensionFactory(this);
            return factory;
        }
    }

    /**
     * Loads and starts every plugin in the given directories.
     *
     * @param directories plugin directories (jars, zips or exploded plugin folders inside); missing ones are errors
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
     * @return the extensions in PF4J order (by {@code @Extension(ordinal)}); unmodifiable
     */
    @SuppressWarnings("unchecked")
    public <T> List<T> extensions(Class<T> type) {
        return (List<T>) cache.computeIfAbsent(type, t -> Collections.unmodifiableList(manager.getExtensions(type)));
    }

    /**
     * @param extension an extension instance
     * @return {@code id@version} of the plugin that contributed it, or {@code host} for the host's own classes
     */
    public String origin(Object extension) {
        PluginWrapper w = manager.whichPlugin(extension.getClass());
        return w == null ? "host" : w.getPluginId() + "@" + w.getDescriptor().getVersion();
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
                    problem += ": " + w.getFailedException().getMessage();
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
                                "not a loadable plugin (no Plugin-Id in its manifest or plugin.properties?)")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
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
