package io.conditio.plugins.schedulers;

import io.conditio.api.ConfigurationException;
import io.conditio.api.SchedulerConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads one scheduler's declared {@link ConfigKey}s from a {@link SchedulerConfig} and records every value it hands
 * out, so that {@link #effective()} is the configuration the scheduler really runs with (what
 * {@link io.conditio.api.Scheduler#config()} returns). Keys nobody reads are kept as they came, as diffusers keeps
 * unknown keys in {@code scheduler.config}.
 */
final class ConfigReader {
    private final SchedulerConfig config;
    private final List<ConfigKey<?>> declared;
    private final Map<String, Object> effective = new LinkedHashMap<>();

    /**
     * @param config    the configuration handed to the provider
     * @param className the diffusers class name of the scheduler reading it; becomes {@code _class_name}
     * @param declared  the keys the scheduler declares; reading another is a programming error
     */
    ConfigReader(SchedulerConfig config, String className, List<ConfigKey<?>> declared) {
        // messages name the class that refused the value, not the one the model folder was saved with
        this.config = config.with(Map.of(SchedulerConfig.CLASS_NAME, className));
        this.declared = declared;
        effective.putAll(this.config.asMap());
    }

    /**
     * @param key a key the scheduler declares
     * @return its value, or its default when absent
     * @throws ConfigurationException naming the key, the class and what was expected when the value does not fit
     */
    <T> T get(ConfigKey<T> key) {
        if (!declared.contains(key)) {
            throw new IllegalStateException(className() + " reads '" + key.name() + "' but does not declare it");
        }
        T v = key.read(config);
        effective.put(key.name(), key.recorded(v));
        return v;
    }

    /** @return a new exception for a combination of values that cannot work */
    ConfigurationException invalid(String message) {
        return new ConfigurationException(config.className() + ": " + message);
    }

    /** @return the diffusers class name this reader reads for */
    String className() {
        return config.className();
    }

    /** @return every key the scheduler read with the value it uses, plus the unread keys as given */
    SchedulerConfig effective() {
        return SchedulerConfig.of(effective);
    }
}
