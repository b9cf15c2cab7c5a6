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
 *
 * <p>Development plugins ({@link #PluginHost(List, List, Injector)}) are loaded from their build output and can be
 * reloaded while the host runs ({@link #reload()}, {@link #watch}): new generations then use the new version
 * ({@link #view()}), generations that hold a {@link Lease} on the previous view finish with the previous version,
 * which is unloaded when the last lease on it is closed.
 */
public final class PluginHost implements AutoCloseable {
    private final List<Path> directories;
    private final Manager manager;
    private final Map<Class<?>, List<?>> cache = new ConcurrentHashMap<>();

    private final List<String> problems = new CopyOnWriteArrayList<>();

    /** Development plugins, in the order they were named; each has one current load. */
    private final List<DevPlugin> dev = new ArrayList<>();
    /** Plugin ids taken by development plugins, with their folders: jars with these ids are not loaded. */
    private final Map<String, Path> devIds = new HashMap<>();
    private final Injector injector;
    private final Object lock = new Object();
    private final Object reloading = new Object();
    /** What new generations use; replaced by a reload. */
    private volatile View view;
    /** Loads of development plugins that are not closed yet: current ones, and replaced ones still leased. */
    private final Set<DevPlugin.Loaded> live = ConcurrentHashMap.newKeySet();
    /** Replaced loads to close once no leased view holds them; guarded by {@code lock}. */
    private final List<DevPlugin.Loaded> retired = new ArrayList<>();
    /** Views with generations running on them, and how many; guarded by {@code lock}. */
    private final Map<View, Integer> leases = new HashMap<>();
    private Path devRoot;
    private int snapshots;

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
                Path devFolder = devIds.get(d.getPluginId());
                if (devFolder != null) {
                    problems.add("skipped " + name + ": plugin id '" + d.getPluginId() + "' is loaded in "
                            + "development mode from " + devFolder + " instead");
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

    /** @return what a failure says at its root, or a Conditio exception's own message where there is one */
    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (!(root instanceof io.conditio.api.ConditioException) && root.getCause() != null
                && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof io.conditio.api.ConditioException) {
            return root.getMessage();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
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
        this(directories, List.of(), injector);
    }

    /**
     * Loads and starts every plugin in the given directories and every development plugin.
     *
     * <p>A development plugin is loaded from its build output, not from a jar, with PF4J's development mode: a
     * Maven plugin project folder (its {@code target/classes}, {@code target/lib} and a descriptor, as
     * {@link DevPlugin} reads them) or a classes folder. No lock file applies to it: naming it here is the
     * operator's trust. A jar in the plugin directories with the same plugin id is skipped. {@link #reload()}
     * loads it again after a rebuild.
     *
     * @param directories plugin directories, as for {@link #PluginHost(List, Injector)}
     * @param devPlugins  development plugin folders; each must load, or this throws
     * @param injector    the host's injector, parent of each plugin's child injector
     * @throws PluginFailureException when a directory does not exist or a development plugin cannot be loaded,
     *     saying which and why
     */
    public PluginHost(List<Path> directories, List<Path> devPlugins, Injector injector) {
        this.injector = injector;
        List<Path> dirs = new ArrayList<>();
        for (Path d : directories) {
            Path abs = d.toAbsolutePath().normalize();
            if (!Files.isDirectory(abs)) {
                throw new PluginFailureException("plugin directory not found: " + abs);
            }
            dirs.add(abs);
        }
        this.directories = List.copyOf(dirs);
        List<DevPlugin> named = new ArrayList<>();
        for (Path d : devPlugins) {
            named.add(DevPlugin.of(d));
        }
        for (DevPlugin d : named) {
            try {
                d.fingerprint = d.fingerprintNow();
                d.current = d.load(nextSnapshot(), injector, takenIds(null, Map.of()));
            } catch (DevPlugin.LoadFailure e) {
                closeDev();
                throw new PluginFailureException("development plugin " + d.folder() + " cannot be loaded: "
                        + e.getMessage());
            }
            dev.add(d);
            live.add(d.current);
            devIds.put(d.current.id(), d.folder());
        }
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
        this.view = new View(currentLoads());
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
    public <T> List<T> extensions(Class<T> type) {
        return view.extensions(type);
    }

    @SuppressWarnings("unchecked")
    private <T> List<T> jarExtensions(Class<T> type) {
        return (List<T>) cache.computeIfAbsent(type, t -> List.copyOf(manager.getExtensions(type)));
    }

    /**
     * @return the plugins new generations use now: the same object until a development plugin is reloaded
     */
    public View view() {
        return view;
    }

    /**
     * The started plugins at one moment: what a generation uses from start to end, even when a development plugin
     * is reloaded meanwhile.
     */
    public final class View {
        private final List<DevPlugin.Loaded> loads;
        private final Map<Class<?>, List<?>> merged = new ConcurrentHashMap<>();

        private View(List<DevPlugin.Loaded> loads) {
            this.loads = List.copyOf(loads);
        }

        /**
         * @param type the extension point
         * @param <T>  its type
         * @return the extensions of the plugin jars and of the development plugins as loaded in this view,
         *     ordered as {@link PluginHost#extensions(Class)} says; unmodifiable
         */
        @SuppressWarnings("unchecked")
        public <T> List<T> extensions(Class<T> type) {
            return (List<T>) merged.computeIfAbsent(type, t -> {
                List<T> all = new ArrayList<>(jarExtensions(type));
                for (DevPlugin.Loaded l : loads) {
                    all.addAll(l.extensions(type));
                }
                return Collections.unmodifiableList(ordered(all));
            });
        }

        /** @return the host */
        public PluginHost host() {
            return PluginHost.this;
        }
    }

    /** A view held by a running generation: the development plugins in it stay loaded until it is closed. */
    public final class Lease implements AutoCloseable {
        private final View leased;
        private boolean closed;

        private Lease(View leased) {
            this.leased = leased;
        }

        /** @return the view leased */
        public View view() {
            return leased;
        }

        /** Lets a replaced development plugin in the view be unloaded once no other lease holds it. */
        @Override
        public void close() {
            List<DevPlugin.Loaded> unused;
            synchronized (lock) {
                if (closed) {
                    return;
                }
                closed = true;
                leases.merge(leased, -1, (a, b) -> a + b == 0 ? null : a + b);
                unused = unusedRetired();
            }
            unused.forEach(PluginHost.this::closeLoad);
        }
    }

    /**
     * @return a lease on the current view; close it when the work that uses the view's extensions is done
     */
    public Lease lease() {
        synchronized (lock) {
            View v = view;
            leases.merge(v, 1, Integer::sum);
            return new Lease(v);
        }
    }

    /** Retired loads that no leased view holds, taken out of the retired list; called under {@code lock}. */
    private List<DevPlugin.Loaded> unusedRetired() {
        List<DevPlugin.Loaded> out = new ArrayList<>();
        for (java.util.Iterator<DevPlugin.Loaded> it = retired.iterator(); it.hasNext(); ) {
            DevPlugin.Loaded r = it.next();
            if (leases.keySet().stream().noneMatch(v -> v.loads.contains(r))) {
                it.remove();
                out.add(r);
            }
        }
        return out;
    }

    private void closeLoad(DevPlugin.Loaded l) {
        live.remove(l);
        l.close();
    }

    private List<DevPlugin.Loaded> currentLoads() {
        List<DevPlugin.Loaded> out = new ArrayList<>();
        for (DevPlugin d : dev) {
            out.add(d.current);
        }
        return out;
    }

    /** Plugin ids loaded other than by {@code except}, with where from. */
    private Map<String, String> takenIds(DevPlugin except, Map<String, String> jars) {
        Map<String, String> out = new HashMap<>(jars);
        for (DevPlugin d : dev) {
            if (d != except && d.current != null) {
                out.put(d.current.id(), d.folder().toString());
            }
        }
        return out;
    }

    private synchronized Path nextSnapshot() {
        try {
            if (devRoot == null) {
                devRoot = Files.createTempDirectory("conditio-dev-");
            }
            return devRoot.resolve(Integer.toString(++snapshots));
        } catch (IOException e) {
            throw new PluginFailureException("cannot create a folder for development plugin snapshots in "
                    + System.getProperty("java.io.tmpdir") + ": " + e.getMessage(), e);
        }
    }

    /** @return the development plugins' folders as named, absolute, in order */
    public List<Path> devPluginFolders() {
        return dev.stream().map(DevPlugin::folder).toList();
    }

    /**
     * @return one warning line per development plugin: loaded from its build output, trusted because it was
     *     named, not because a lock file lists it
     */
    public List<String> devWarnings() {
        List<String> out = new ArrayList<>();
        for (DevPlugin d : dev) {
            DevPlugin.Loaded l = d.current;
            out.add("plugin " + l.id() + " " + l.version() + " runs in development mode from " + d.folder()
                    + ": loaded from its build output, not checked against any " + PluginLock.FILE_NAME
                    + "; use this for plugin development only");
        }
        return out;
    }

    /**
     * Loads every development plugin again from its build output, whether it changed or not.
     *
     * @return one line per development plugin: {@code reloaded ID VERSION}, or
     *     {@code reload of ID failed: REASON (still running VERSION)}
     */
    public List<String> reload() {
        return reload(false);
    }

    /**
     * Loads again the development plugins whose build output changed since they were last loaded or tried.
     *
     * @return one line per plugin tried, as {@link #reload()} says; empty when nothing changed
     */
    public List<String> reloadChanged() {
        return reload(true);
    }

    private List<String> reload(boolean onlyChanged) {
        List<String> lines = new ArrayList<>();
        synchronized (reloading) {
            for (DevPlugin d : dev) {
                String now = d.fingerprintNow();
                if (onlyChanged && now.equals(d.fingerprint)) {
                    continue;
                }
                d.fingerprint = now;
                DevPlugin.Loaded old = d.current;
                Map<String, String> jars = new HashMap<>();
                for (PluginWrapper w : manager.getPlugins()) {
                    jars.put(w.getPluginId(), w.getPluginPath().toString());
                }
                DevPlugin.Loaded next;
                try {
                    next = d.load(nextSnapshot(), injector, takenIds(d, jars));
                    checkDeclarations(d, next);
                } catch (DevPlugin.LoadFailure e) {
                    lines.add("reload of " + old.id() + " failed: " + e.getMessage() + " (still running "
                            + old.version() + ")");
                    continue;
                } catch (RuntimeException e) {
                    lines.add("reload of " + old.id() + " failed: " + rootMessage(e) + " (still running "
                            + old.version() + ")");
                    continue;
                }
                List<DevPlugin.Loaded> unused;
                synchronized (lock) {
                    live.add(next);
                    d.current = next;
                    devIds.remove(old.id());
                    devIds.put(next.id(), d.folder());
                    view = new View(currentLoads());
                    retired.add(old);
                    unused = unusedRetired();
                }
                unused.forEach(this::closeLoad);
                lines.add("reloaded " + next.id() + " " + next.version()
                        + (next.id().equals(old.id()) ? "" : " (was " + old.id() + " " + old.version() + ")"));
            }
        }
        return lines;
    }

    /** Builds the parameter catalog the new load would give; closes the load and throws when it is refused. */
    private void checkDeclarations(DevPlugin d, DevPlugin.Loaded next) throws DevPlugin.LoadFailure {
        List<DevPlugin.Loaded> loads = new ArrayList<>();
        for (DevPlugin other : dev) {
            loads.add(other == d ? next : other.current);
        }
        live.add(next);
        try {
            io.conditio.core.parameters.ParameterCatalog.of(new View(loads));
        } catch (RuntimeException | LinkageError e) {
            closeLoad(next);
            throw new DevPlugin.LoadFailure("its parameter declarations are refused: " + rootMessage(e));
        }
    }

    /**
     * Watches the development plugins' build output and reloads a plugin once its output changed and then stayed
     * unchanged for {@code settle} (a build writes many files), on a daemon thread of the host's.
     *
     * @param poll   how often to look
     * @param settle how long the output must stay unchanged before it is loaded
     * @param report gets every line {@link #reload()} would return
     * @return the watch; close it to stop watching
     */
    public AutoCloseable watch(java.time.Duration poll, java.time.Duration settle,
            java.util.function.Consumer<String> report) {
        java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(io.conditio.core.HostThreads.daemon("conditio-plugin-dev-watch",
                        false));
        Map<DevPlugin, String> seen = new HashMap<>();
        Map<DevPlugin, Long> since = new HashMap<>();
        timer.scheduleWithFixedDelay(() -> {
            try {
                for (DevPlugin d : dev) {
                    String now = d.fingerprintNow();
                    if (now.equals(d.fingerprint)) {
                        seen.remove(d);
                        continue;
                    }
                    long t = System.nanoTime();
                    if (!now.equals(seen.get(d))) {
                        seen.put(d, now);
                        since.put(d, t);
                    } else if (t - since.get(d) >= settle.toNanos() && !now.startsWith("missing")
                            && !now.startsWith("unreadable")) {
                        seen.remove(d);
                        reloadChanged().forEach(report);
                    }
                }
            } catch (RuntimeException e) {
                report.accept("watching the development plugins failed: " + rootMessage(e));
            }
        }, poll.toMillis(), poll.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        return timer::shutdownNow;
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
        PluginWrapper w = which(extension.getClass());
        return w == null ? "host" : w.getPluginId() + "@" + w.getDescriptor().getVersion();
    }

    /** @return the plugin, jar or development, whose class loader defined the class; null for the host's own */
    private PluginWrapper which(Class<?> c) {
        PluginWrapper w = manager == null ? null : manager.whichPlugin(c);
        if (w != null) {
            return w;
        }
        for (DevPlugin.Loaded l : live) {
            PluginWrapper d = l.which(c);
            if (d != null) {
                return d;
            }
        }
        return null;
    }

    /**
     * @param extension an extension instance
     * @param spiVersion an SPI version, e.g. {@code 0.1.0}
     * @return true when the {@code Plugin-Requires} range of the extension's plugin admits that version (false for
     *         the host's own classes)
     */
    public boolean admits(Object extension, String spiVersion) {
        PluginWrapper w = which(extension.getClass());
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
        for (DevPlugin dp : dev) {
            DevPlugin.Loaded l = dp.current;
            PluginWrapper w = l.wrapper();
            var d = w.getDescriptor();
            List<String> ext = new ArrayList<>(l.extensionClassNames());
            Collections.sort(ext);
            out.add(new PluginInfo(l.id(), l.version(), d.getProvider(), d.getRequires(),
                    w.getPluginState().toString(), dp.folder(), ext, null));
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
    static String startFailure(PluginWrapper w) {
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

    private void closeDev() {
        List<DevPlugin.Loaded> all;
        synchronized (lock) {
            all = new ArrayList<>(live);
            live.clear();
            retired.clear();
        }
        all.forEach(DevPlugin.Loaded::close);
        for (DevPlugin d : dev) {
            d.current = null;
        }
        if (devRoot != null) {
            DevPlugin.deleteTree(devRoot);
        }
    }

    /** Stops and unloads every plugin, development ones included, and deletes their snapshots. */
    @Override
    public void close() {
        closeDev();
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
