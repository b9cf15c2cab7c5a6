package io.conditio.core.plugin;

import java.nio.file.Path;
import java.util.List;

/**
 * What the host knows about one plugin, for listings and diagnostics.
 *
 * @param id         Plugin-Id
 * @param version    Plugin-Version
 * @param provider   Plugin-Provider
 * @param requires   Plugin-Requires (the SPI range the plugin needs)
 * @param state      PF4J's state name (STARTED when usable)
 * @param path       where it was loaded from
 * @param extensions the extension class names it contributes
 * @param problem    why it is not usable, or null when started
 */
public record PluginInfo(String id, String version, String provider, String requires, String state, Path path,
        List<String> extensions, String problem) {

    /** Copies the list. */
    public PluginInfo {
        extensions = List.copyOf(extensions);
    }

    /** @return true when the plugin is started and its extensions are available */
    public boolean usable() {
        return problem == null;
    }
}
