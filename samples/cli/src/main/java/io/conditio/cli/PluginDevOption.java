package io.conditio.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --plugin-dev DIR}, repeatable: plugins loaded from their build output in development mode. */
final class PluginDevOption {
    @Option(names = "--plugin-dev", paramLabel = "DIR",
            description = "Also load a plugin straight from its build output, in development mode: a plugin project "
                    + "folder holding target/classes (after mvn compile) or that classes folder. Repeatable. No "
                    + "lock file applies to it; for plugin development only.")
    List<Path> pluginDev = new ArrayList<>();
}
