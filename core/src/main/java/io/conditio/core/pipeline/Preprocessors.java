package io.conditio.core.pipeline;

import io.conditio.api.ControlPreprocessor;
import io.conditio.api.InvalidRequestException;
import io.conditio.core.plugin.PluginHost;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/** The control preprocessors the loaded plugins provide, by name. */
public final class Preprocessors {
    private Preprocessors() {
    }

    /**
     * @param host the plugins
     * @return name to one-line description, sorted, {@code none} included
     */
    public static TreeMap<String, String> names(PluginHost host) {
        TreeMap<String, String> out = new TreeMap<>();
        out.put("none", "the image as given");
        for (ControlPreprocessor p : host.extensions(ControlPreprocessor.class)) {
            out.putIfAbsent(p.name().toLowerCase(Locale.ROOT), p.description() + " (plugin " + host.origin(p) + ")");
        }
        return out;
    }

    /**
     * @param host the plugins
     * @param name the name asked for, case-insensitive
     * @return the preprocessor, or null for {@code none}
     * @throws InvalidRequestException listing the available names when none has that name
     */
    static ControlPreprocessor find(PluginHost host, String name) {
        String n = name == null ? "none" : name.toLowerCase(Locale.ROOT);
        if (n.equals("none")) {
            return null;
        }
        List<ControlPreprocessor> all = host.extensions(ControlPreprocessor.class);
        for (ControlPreprocessor p : all) {
            if (p.name().equalsIgnoreCase(n)) {
                return p;
            }
        }
        throw new InvalidRequestException("unknown --control-preprocess '" + name + "'; the loaded plugins provide: "
                + String.join(", ", names(host).keySet()));
    }
}
