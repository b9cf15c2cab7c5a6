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
    private final Map<String, Injector> children = new ConcurrentHashMap<>();
    private volatile Injector parent;

    GuiceExtensionFactory(PluginManager pluginManager) {
        this.pluginManager = pluginManager;
    }

    void setParent(Injector parent) {
        this.parent = parent;
    }

    void drop(String pluginId) {
        children.remove(pluginId);
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
            Injector injector = children.computeIfAbsent(id, k -> root.createChildInjector(binder -> {
                for (Class<?> c : plugin == null ? java.util.List.<Class<?>>of(extensionClass)
                        : pluginManager.getExtensionClasses(id)) {
                    binder.bind(c);
                }
            }));
            return injector.getInstance(extensionClass);
        } catch (RuntimeException e) {
            String who = plugin == null ? "the host" : "plugin " + id + " " + plugin.getDescriptor().getVersion();
            throw new PluginFailureException("could not create extension " + extensionClass.getName() + " of " + who
                    + ": " + e.getMessage(), e);
        }
    }
}
