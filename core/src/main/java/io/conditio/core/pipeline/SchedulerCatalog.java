package io.conditio.core.pipeline;

import io.conditio.api.ConfigurationException;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Finds the scheduler a request asks for among the plugins' {@link SchedulerProvider}s, and the config it runs with:
 * the model folder's config, then the request's config keys, then a preset's overrides, as diffusers'
 * {@code from_config(pipe.scheduler.config, **overrides)} does.
 */
public final class SchedulerCatalog {
    private final Map<String, SchedulerProvider> byClass = new LinkedHashMap<>();
    private final Map<String, Entry> byPreset = new LinkedHashMap<>();

    /** A provider with the preset that selected it (null when selected by class name). */
    public record Entry(SchedulerProvider provider, SchedulerPreset preset) {
    }

    /** A resolved scheduler choice. */
    public record Choice(SchedulerProvider provider, SchedulerConfig config, String name) {
    }

    /** @param providers the scheduler extensions, in plugin order; the first to claim a name wins */
    public SchedulerCatalog(List<SchedulerProvider> providers) {
        for (SchedulerProvider p : providers) {
            for (String c : p.classNames()) {
                byClass.putIfAbsent(c, p);
            }
            for (SchedulerPreset preset : p.presets()) {
                byPreset.putIfAbsent(preset.name().toLowerCase(Locale.ROOT), new Entry(p, preset));
            }
        }
    }

    /** @return the preset names, sorted */
    public List<String> presetNames() {
        return new ArrayList<>(new TreeSet<>(byPreset.keySet()));
    }

    /** @return the diffusers class names, sorted */
    public List<String> classNames() {
        return new ArrayList<>(new TreeSet<>(byClass.keySet()));
    }

    /** @return every preset with its provider, in registration order */
    public Map<String, Entry> presets() {
        return java.util.Collections.unmodifiableMap(byPreset);
    }

    /**
     * @param folderConfig  the model folder's scheduler config, if any
     * @param name          a preset name or class name from the request, if any
     * @param requestConfig config keys from the request, if any
     * @return the provider and the effective config
     * @throws ConfigurationException naming what was asked and what exists when nothing matches
     */
    public Choice resolve(Optional<SchedulerConfig> folderConfig, Optional<String> name,
            Optional<Map<String, Object>> requestConfig) {
        SchedulerConfig config = folderConfig.orElse(SchedulerConfig.empty());
        if (requestConfig.isPresent()) {
            config = config.with(requestConfig.get());
        }
        if (name.isPresent()) {
            String n = name.get().trim();
            Entry preset = byPreset.get(n.toLowerCase(Locale.ROOT));
            if (preset != null) {
                String cls = preset.preset().className(preset.provider());
                Map<String, Object> over = new LinkedHashMap<>(preset.preset().overrides());
                over.put(SchedulerConfig.CLASS_NAME, cls);
                return new Choice(preset.provider(), config.with(over), preset.preset().name());
            }
            SchedulerProvider p = byClass.get(n);
            if (p != null) {
                return new Choice(p, config.with(Map.of(SchedulerConfig.CLASS_NAME, n)), n);
            }
            throw new ConfigurationException("unknown scheduler '" + n + "'; available names: "
                    + available(presetNames()) + "; or a diffusers class name: " + available(classNames()));
        }
        String cls = config.className();
        if (cls == null) {
            throw new ConfigurationException("no scheduler chosen: " + (folderConfig.isPresent()
                    ? "the model folder's scheduler/scheduler_config.json has no _class_name"
                    : "the model folder has no scheduler/scheduler_config.json")
                    + " and the request names none; pass --scheduler NAME ("
                    + String.join(", ", presetNames()) + ")");
        }
        SchedulerProvider p = byClass.get(cls);
        if (p == null) {
            throw new ConfigurationException("scheduler class '" + cls + "' (from the scheduler config) is not "
                    + "provided by any loaded plugin; available: " + available(classNames()));
        }
        return new Choice(p, config, cls);
    }

    private static String available(java.util.Collection<String> names) {
        return names.isEmpty() ? "none (no scheduler plugin is loaded: is the plugin directory right?)"
                : String.join(", ", names);
    }
}
