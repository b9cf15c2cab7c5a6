package io.conditio.api;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A diffusers scheduler configuration: the keys of {@code scheduler_config.json} as parsed JSON values
 * ({@link String}, {@link Number}, {@link Boolean}, {@link List}, or null). Immutable.
 *
 * <p>Getters take the default diffusers uses for the key; a JSON {@code null} counts as absent, as it does for
 * diffusers' {@code from_config}. Keys a scheduler does not read are ignored. A value of the wrong JSON type, or
 * one outside what the scheduler supports, is a {@link ConfigurationException} naming the key.
 */
public final class SchedulerConfig {
    /** The key that names the diffusers class, e.g. {@code "EulerDiscreteScheduler"}. */
    public static final String CLASS_NAME = "_class_name";

    private final Map<String, Object> values;

    private SchedulerConfig(Map<String, Object> values) {
        this.values = values;
    }

    /**
     * @param values parsed JSON values by key; copied
     * @return a configuration
     */
    public static SchedulerConfig of(Map<String, ?> values) {
        return new SchedulerConfig(Collections.unmodifiableMap(new LinkedHashMap<>(values)));
    }

    /** @return an empty configuration: every key takes its default */
    public static SchedulerConfig empty() {
        return of(Map.of());
    }

    /** @return every key and value, in insertion order; unmodifiable */
    public Map<String, Object> asMap() {
        return values;
    }

    /** @return {@code _class_name}, or null when absent */
    public String className() {
        Object v = values.get(CLASS_NAME);
        return v == null ? null : v.toString();
    }

    /**
     * @param overrides keys to set (a null value removes the key)
     * @return a new configuration with {@code overrides} applied on top of this one
     */
    public SchedulerConfig with(Map<String, ?> overrides) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        overrides.forEach((k, v) -> {
            if (v == null) {
                m.remove(k);
            } else {
                m.put(k, v);
            }
        });
        return new SchedulerConfig(Collections.unmodifiableMap(m));
    }

    /**
     * @param key a key
     * @return true when the key is present with a non-null value
     */
    public boolean has(String key) {
        return values.get(key) != null;
    }

    /**
     * @param key a key
     * @param defaultValue used when absent
     * @return the value as an int
     */
    public int getInt(String key, int defaultValue) {
        Object v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return n.intValue();
        }
        throw wrongType(key, v, "an integer");
    }

    /**
     * @param key a key
     * @param defaultValue used when absent
     * @return the value as a double
     */
    public double getDouble(String key, double defaultValue) {
        Number n = typed(key, Number.class, "a number");
        return n == null ? defaultValue : n.doubleValue();
    }

    /**
     * @param key a key
     * @return the value as a Double, or null when absent (for keys such as {@code sigma_min} whose absence means
     *     "derive it")
     */
    public Double getOptionalDouble(String key) {
        Number n = typed(key, Number.class, "a number or null");
        return n == null ? null : n.doubleValue();
    }

    /**
     * @param key a key
     * @param defaultValue used when absent
     * @return the value as a boolean
     */
    public boolean getBoolean(String key, boolean defaultValue) {
        Boolean b = typed(key, Boolean.class, "true or false");
        return b == null ? defaultValue : b;
    }

    /**
     * @param key a key
     * @param defaultValue used when absent
     * @return the value as a string
     */
    public String getString(String key, String defaultValue) {
        String s = typed(key, String.class, "a string");
        return s == null ? defaultValue : s;
    }

    /**
     * Reads a string that must be one of a fixed set.
     *
     * @param key          a key
     * @param defaultValue used when absent
     * @param allowed      the values the scheduler supports
     * @return the value
     * @throws ConfigurationException naming the key and the allowed values when the value is another
     */
    public String getChoice(String key, String defaultValue, String... allowed) {
        String s = getString(key, defaultValue);
        if (!Arrays.asList(allowed).contains(s)) {
            throw new ConfigurationException("scheduler config key '" + key + "' is '" + s + "'"
                    + (className() == null ? "" : " for " + className()) + "; allowed: " + String.join(", ", allowed));
        }
        return s;
    }

    /**
     * @param key a key
     * @return the value as a double array (e.g. {@code trained_betas}), or null when absent
     */
    public double[] getDoubleArray(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof List<?> list) {
            double[] out = new double[list.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(list.get(i) instanceof Number n)) {
                    throw wrongType(key, v, "a list of numbers");
                }
                out[i] = n.doubleValue();
            }
            return out;
        }
        if (v instanceof double[] d) {
            return d.clone();
        }
        throw wrongType(key, v, "a list of numbers");
    }

    /** The value of {@code key} as {@code type}, null when absent; another type is an error naming {@code expected}. */
    private <T> T typed(String key, Class<T> type, String expected) {
        Object v = values.get(key);
        if (v == null || type.isInstance(v)) {
            return type.cast(v);
        }
        throw wrongType(key, v, expected);
    }

    private ConfigurationException wrongType(String key, Object v, String expected) {
        return new ConfigurationException("scheduler config key '" + key + "' is " + v + " ("
                + v.getClass().getSimpleName() + ")" + (className() == null ? "" : " for " + className())
                + "; expected " + expected);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SchedulerConfig c && c.values.equals(values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(values);
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
