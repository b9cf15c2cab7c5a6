package io.conditio.cli;

import io.conditio.api.ParameterDeclaration;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import io.conditio.core.Conditio;
import io.conditio.core.json.Json;
import io.conditio.core.parameters.ParameterCatalog;
import io.conditio.core.plugin.PluginInfo;
import io.conditio.core.plugin.PluginLock;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conditio plugins}: what is loaded, in which version, and what it contributes. */
@Command(name = "plugins", mixinStandardHelpOptions = true,
        description = "List the loaded plugins, their versions and extensions, and the scheduler names.")
final class PluginsCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    PluginDirectoryOption plugins = new PluginDirectoryOption();

    @Mixin
    PluginDevOption dev = new PluginDevOption();

    @Option(names = "--lock", description = "Write " + PluginLock.FILE_NAME + " into the plugin directory: the id, "
            + "version and SHA-256 of every jar there now. Once it exists only those jars load.")
    boolean lock;

    @Option(names = "--parameters", description = "List the request parameters the plugins declare (the keys of "
            + "--param and of a recipe's parameters): type, range, default, description and who declares them.")
    boolean parameters;

    @Option(names = "--scheduler-keys", arity = "0..1", paramLabel = "CLASS", fallbackValue = "",
            description = "List the scheduler_config.json keys each scheduler class reads (of --scheduler-config and "
                    + "a recipe's scheduler_config): type, allowed values or range, default, description; only "
                    + "CLASS's when given, e.g. --scheduler-keys DDIMScheduler.")
    String schedulerKeys;

    @Option(names = "--json-schema", description = "Print the JSON Schema of a recipe, its parameters as the "
            + "loaded plugins declare them.")
    boolean jsonSchema;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = plugins.directory();
        if (parameters || jsonSchema) {
            try (Conditio conditio = Conditio.start(List.of(dir), dev.pluginDev)) {
                ConditioCli.warn(spec, conditio.plugins().devWarnings());
                ConditioCli.warn(spec, conditio.plugins().problems());
                ParameterCatalog catalog = conditio.parameters();
                if (jsonSchema) {
                    out.println(Json.writePretty(catalog.recipeJsonSchema()));
                } else {
                    printParameters(out, catalog);
                }
            }
            return 0;
        }
        if (schedulerKeys != null) {
            try (Conditio conditio = Conditio.start(List.of(dir))) {
                return printSchedulerKeys(out, conditio.plugins().extensions(SchedulerProvider.class));
            }
        }
        if (lock) {
            if (!java.nio.file.Files.isDirectory(dir)) {
                throw new io.conditio.api.PluginFailureException("plugin directory not found: " + dir.toAbsolutePath());
            }
            List<PluginLock.Entry> entries = PluginLock.write(dir);
            out.println("wrote " + dir.resolve(PluginLock.FILE_NAME) + " (" + entries.size() + " plugins: "
                    + String.join(", ", entries.stream().map(e -> e.id() + "@" + e.version()).toList()) + ")");
            return 0;
        }
        int unusable = 0;
        try (Conditio conditio = Conditio.start(List.of(dir), dev.pluginDev)) {
            ConditioCli.warn(spec, conditio.plugins().devWarnings());
            out.println("plugins in " + conditio.plugins().directories().get(0) + ":");
            if (conditio.plugins().plugins().isEmpty()) {
                out.println("    (none: the folder holds no plugin jars)");
            }
            for (PluginInfo p : conditio.plugins().plugins()) {
                boolean dev = conditio.plugins().devPluginFolders().contains(p.path());
                out.printf("%s %s  %s  requires %s  (%s)%n", p.id(), p.version(), p.state(), p.requires(),
                        dev ? "development mode: " + p.path() : p.path().getFileName());
                if (!p.usable()) {
                    unusable++;
                    out.println("    not usable: " + p.problem());
                }
                for (String e : p.extensions()) {
                    out.println("    " + e);
                }
            }
            java.util.TreeMap<String, String> names = new java.util.TreeMap<>();
            for (SchedulerProvider s : conditio.plugins().extensions(SchedulerProvider.class)) {
                for (SchedulerPreset preset : s.presets()) {
                    names.putIfAbsent(preset.name(), String.format("    %-18s %s — %s", preset.name(),
                            preset.className(s), preset.description()));
                }
            }
            if (!names.isEmpty()) {
                out.println("scheduler names (--scheduler):");
                names.values().forEach(out::println);
            }
            out.println("control preprocessors (--control-preprocess, --adapter-preprocess):");
            io.conditio.core.pipeline.Preprocessors.names(conditio.plugins())
                    .forEach((n, d) -> out.printf("    %-18s %s%n", n, d));
        }
        return unusable == 0 ? 0 : 3;
    }

    private static void printParameters(PrintWriter out, ParameterCatalog catalog) {
        out.println("request parameters (--param KEY=VALUE, a recipe's \"parameters\"):");
        catalog.entries().forEach((key, e) -> {
            print(out, "    ", e.declaration());
            out.println("        declared by " + String.join(", ", e.owners()));
        });
        if (!catalog.undeclaredOwners().isEmpty()) {
            out.println("built against SPI 0.1.0, declaring nothing (keys nobody declares pass to them unchecked):");
            catalog.undeclaredOwners().forEach(o -> out.println("    " + o));
        }
        catalog.conflicts().forEach(c -> out.println("conflict: " + c));
    }

    private int printSchedulerKeys(PrintWriter out, List<SchedulerProvider> providers) {
        boolean found = false;
        java.util.List<String> all = new java.util.ArrayList<>();
        for (SchedulerProvider p : providers) {
            for (String cls : p.classNames()) {
                all.add(cls);
                if (!schedulerKeys.isEmpty() && !schedulerKeys.equals(cls)) {
                    continue;
                }
                found = true;
                List<ParameterDeclaration> keys = p.configKeys(cls);
                out.println(cls + (keys.isEmpty() ? " (documents no keys)" : ":"));
                keys.forEach(d -> print(out, "    ", d));
            }
        }
        if (!found) {
            spec.commandLine().getErr().println("conditio: no scheduler class '" + schedulerKeys + "'; the loaded "
                    + "plugins provide " + String.join(", ", all));
            return 2;
        }
        return 0;
    }

    private static void print(PrintWriter out, String indent, ParameterDeclaration d) {
        String dflt = d.defaultValue().map(v -> "  default " + v).orElse("");
        out.printf("%s%-28s %s%s%s — %s%n", indent, d.name(), d.typeText(), dflt, d.required() ? "  required" : "",
                d.description());
        for (ParameterDeclaration f : d.fields()) {
            print(out, indent + "    ", f);
        }
    }
}
