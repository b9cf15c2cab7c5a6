package io.conditio.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --plugins DIR}: the plugin directory every command that loads plugins reads. */
final class PluginDirectoryOption {
    @Option(names = "--plugins", paramLabel = "DIR", defaultValue = "${env:CONDITIO_PLUGINS}",
            description = "Plugin directory (default: $CONDITIO_PLUGINS, else plugins/ beside the launcher).")
    Path plugins;

    /** The flag, else {@code CONDITIO_PLUGINS}, else {@code plugins/} beside the launcher, else {@code ./plugins}. */
    Path directory() {
        return orBesideLauncher(plugins, Path.of("plugins"));
    }

    /**
     * {@code given} unless it is unset or blank (an empty environment variable), else {@code relative} beside the
     * launcher ({@code conditio.home}) when that folder exists there, else {@code relative} itself.
     */
    static Path orBesideLauncher(Path given, Path relative) {
        if (given != null && !given.toString().isBlank()) {
            return given;
        }
        String home = System.getProperty("conditio.home");
        if (home != null && Files.isDirectory(Path.of(home).resolve(relative))) {
            return Path.of(home).resolve(relative);
        }
        return relative;
    }
}
