package io.conditio.plugins.schedulers;

import io.conditio.api.ConfigurationException;
import io.conditio.api.SchedulerConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the keys one scheduler honours from a {@link SchedulerConfig}, with diffusers' defaults, and records every
 * value it hands out so that {@link #effective()} is the configuration the scheduler really runs with (what
 * {@link io.conditio.api.Scheduler#config()} returns). Keys nobody reads are kept as they came, as diffusers keeps
 * unknown keys in {@code scheduler.config}.
 */
final class ConfigReader {
    private final SchedulerConfig config;
    private final Map<String, Object> effective = new LinkedHashMap<>();

    /**
     * @param config    the configuration handed to the provider
     * @param className the diffusers class name of the scheduler reading it; becomes {@code _class_name}
     */
    ConfigReader(SchedulerConfig config, String className) {
        // messages name the class that refused the value, not the one the model folder was saved with
        this.config = config.with(Map.of(SchedulerConfig.CLASS_NAME, className));
        effective.putAll(this.config.asMap());
    }

    int getInt(String key, int defaultValue) {
        int v = config.getInt(key, defaultValue);
        effective.put(key, v);
        return v;
    }

    /** Reads an integer that must be one of {@code allowed}. */
    int getIntChoice(String key, int defaultValue, int... allowed) {
        int v = config.getInt(key, defaultValue);
        if (Arrays.stream(allowed).noneMatch(a -> a == v)) {
            throw new ConfigurationException("scheduler config key '" + key + "' is " + v + " for "
                    + config.className() + "; allowed: " + Arrays.toString(allowed).replaceAll("[\\[\\]]", ""));
        }
        effective.put(key, v);
        return v;
    }

    double getDouble(String key, double defaultValue) {
        double v = config.getDouble(key, defaultValue);
        effective.put(key, v);
        return v;
    }

    /** @return the value, or null when absent (recorded as null) */
    Double getOptionalDouble(String key) {
        Double v = config.getOptionalDouble(key);
        effective.put(key, v);
        return v;
    }

    boolean getBoolean(String key, boolean defaultValue) {
        boolean v = config.getBoolean(key, defaultValue);
        effective.put(key, v);
        return v;
    }

    /** Reads a string that must be one of {@code allowed}; the exception names the key and the allowed values. */
    String getChoice(String key, String defaultValue, String... allowed) {
        String v = config.getChoice(key, defaultValue, allowed);
        effective.put(key, v);
        return v;
    }

    /** Like {@link #getChoice} but JSON null (absent) is a legal value, returned as null. */
    String getOptionalChoice(String key, String... allowed) {
        if (!config.has(key)) {
            effective.put(key, null);
            return null;
        }
        return getChoice(key, null, allowed);
    }

    /** @return the array, or null when absent */
    double[] getDoubleArray(String key) {
        double[] v = config.getDoubleArray(key);
        if (v == null) {
            effective.put(key, null);
        } else {
            List<Double> list = new ArrayList<>(v.length);
            for (double d : v) {
                list.add(d);
            }
            effective.put(key, List.copyOf(list));
        }
        return v;
    }

    /**
     * Refuses a feature this port does not implement when the config turns it on.
     *
     * @param key the boolean key
     * @param why the reason and what to use instead
     */
    void refuseIfTrue(String key, String why) {
        if (getBoolean(key, false)) {
            throw new ConfigurationException("scheduler config key '" + key + "' is true for " + config.className()
                    + ", which is not supported: " + why);
        }
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
