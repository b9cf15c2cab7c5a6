package io.conditio.core.plugin;

import com.google.inject.Injector;
import io.conditio.api.PluginFailureException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginManager;
import org.pf4j.PluginWrapper;

/**
 * Creates PF4J extensions through Guice: one child injector per plugin, with explicit bindings for that plugin's
 * extension classes, so an extension may {@code @Inject} what the host binds (and other extensions of its plugin).
 * Child injectors are dropped when their plugin stops.
 */
final class GuiceExtensionFactory implements ExtensionFactory {
    private static final String SYSTEM = "<system>";

    private final PluginManager pluginManager;
    private final boolean isolated;
    private final Map<String, Injector> children = new ConcurrentHashMap<>();
    private volatile Injector parent;

    GuiceExtensionFactory(PluginManager pluginManager) {
        this(pluginManager, false);
    }

    /**
     * @param pluginManager the manager whose plugins' extensions this creates
     * @param isolated      whether each plugin gets an injector of its own that takes the host's explicit bindings
     *                      from the host's injector, instead of a child injector: a child's bindings leave their keys
     *                      in the parent (Guice bans them there, with their classes, until it next cleans up), which
     *                      would keep an unloaded plugin's class loader alive in a host that reloads plugins
     */
    GuiceExtensionFactory(PluginManager pluginManager, boolean isolated) {
        this.pluginManager = pluginManager;
        this.isolated = isolated;
    }

    void setParent(Injector parent) {
        this.parent = parent;
    }

    void drop(String pluginId) {
        children.remove(pluginId);
    }

    /** The host injector's own explicit bindings, each provided by the host injector. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static com.google.inject.Module hostBindings(Injector host) {
        return binder -> {
            for (com.google.inject.Key<?> key : host.getBindings().keySet()) {
                Class<?> raw = key.getTypeLiteral().getRawType();
                if (raw == Injector.class || raw == com.google.inject.Stage.class
                        || raw == java.util.logging.Logger.class) {
                    continue; // Guice binds these in every injector
                }
                binder.bind((com.google.inject.Key) key).toProvider(() -> host.getInstance(key));
            }
        };
    }

    @Override
    public <T> T create(Class<T> extensionClass) {
        Injector root = parent;
        if (root == null) {
            throw new IllegalStateException("extension requested before the plugin host was wired");
        }
        PluginWrapper plugin = pluginManager.whichPlugin(extensionClass);
        String id = plugin == null ? SYSTEM : plugin.getPluginId();
        try {
            com.google.inject.Module extensions = binder -> {
                for (Class<?> c : plugin == null ? java.util.List.<Class<?>>of(extensionClass)
                        : pluginManager.getExtensionClasses(id)) {
                    binder.bind(c);
                }
            };
            Injector injector = children.computeIfAbsent(id, k -> isolated
                    ? com.google.inject.Guice.createInjector(hostBindings(root), extensions)
                    : root.createChildInjector(extensions));
            return injector.getInstance(extensionClass);
        } catch (RuntimeException e) {
            String who = plugin == null ? "the host" : "plugin " + id + " " + plugin.getDescriptor().getVersion();
            throw new PluginFailureException("could not create extension " + extensionClass.getName() + " of " + who
                    + ": " + e.getMessage(), e);
        }
    }
}
