package io.conditio.plugins.schedulers;

import io.conditio.api.ConfigurationException;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.SchedulerConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One key of {@code scheduler_config.json} as a scheduler reads it: its name, JSON type, the default of the diffusers
 * class's {@code __init__}, the values or range it accepts, and a line of documentation. A scheduler declares its keys
 * once as constants and lists them; its {@link ConfigReader} reads and validates through them, records the value for
 * {@link io.conditio.api.Scheduler#config()}, and {@link BuiltInSchedulers#configKeys} documents them. Immutable.
 *
 * @param <T> the Java type the scheduler gets: Integer, Double, Boolean, String, or double[]
 */
final class ConfigKey<T> {

    /** The JSON shapes a key can have. */
    enum Kind {
        INTEGER(ParameterType.INTEGER),
        NUMBER(ParameterType.NUMBER),
        BOOLEAN(ParameterType.BOOLEAN),
        CHOICE(ParameterType.ENUM),
        NUMBERS(ParameterType.NUMBER);

        private final ParameterType type;

        Kind(ParameterType type) {
            this.type = type;
        }
    }

    private final String name;
    private final Kind kind;
    private final T defaultValue;
    private final List<String> allowed;
    private final Double min;
    private final boolean minInclusive;
    private final Double max;
    private final boolean maxInclusive;
    private final String unsupportedWhy;
    private final String description;

    private ConfigKey(String name, Kind kind, T defaultValue, List<String> allowed, Double min, boolean minInclusive,
            Double max, boolean maxInclusive, String unsupportedWhy, String description) {
        this.name = Objects.requireNonNull(name, "name");
        this.kind = kind;
        this.defaultValue = defaultValue;
        this.allowed = List.copyOf(allowed);
        this.min = min;
        this.minInclusive = minInclusive;
        this.max = max;
        this.maxInclusive = maxInclusive;
        this.unsupportedWhy = unsupportedWhy;
        this.description = Objects.requireNonNull(description, "description");
    }

    /** An integer key. */
    static ConfigKey<Integer> integer(String name, int defaultValue, String description) {
        return new ConfigKey<>(name, Kind.INTEGER, defaultValue, List.of(), null, false, null, false, null,
                description);
    }

    /** A number key. */
    static ConfigKey<Double> number(String name, double defaultValue, String description) {
        return new ConfigKey<>(name, Kind.NUMBER, defaultValue, List.of(), null, false, null, false, null,
                description);
    }

    /** A number key whose absence (null) means "derive it", e.g. {@code sigma_min}. */
    static ConfigKey<Double> optionalNumber(String name, String description) {
        return new ConfigKey<>(name, Kind.NUMBER, null, List.of(), null, false, null, false, null, description);
    }

    /** A boolean key. */
    static ConfigKey<Boolean> flag(String name, boolean defaultValue, String description) {
        return new ConfigKey<>(name, Kind.BOOLEAN, defaultValue, List.of(), null, false, null, false, null,
                description);
    }

    /**
     * A boolean key for a diffusers feature this port does not implement: false (the default) is fine, true is
     * refused with {@code why}.
     *
     * @param why the reason and what to use instead
     */
    static ConfigKey<Boolean> unsupportedFlag(String name, String why) {
        return new ConfigKey<>(name, Kind.BOOLEAN, false, List.of(), null, false, null, false, why,
                "must be false: " + why);
    }

    /**
     * A string key that must be one of {@code allowed}.
     *
     * @param defaultValue the default; null when absence (JSON null) is itself a legal value
     */
    static ConfigKey<String> choice(String name, String defaultValue, String description, String... allowed) {
        return new ConfigKey<>(name, Kind.CHOICE, defaultValue, Arrays.asList(allowed), null, false, null, false,
                null, description);
    }

    /** A list of numbers, absent by default (e.g. {@code trained_betas}). */
    static ConfigKey<double[]> numbers(String name, String description) {
        return new ConfigKey<>(name, Kind.NUMBERS, null, List.of(), null, false, null, false, null, description);
    }

    /**
     * @param items keys and lists of keys
     * @return them as one list, in order: a scheduler's declared keys
     */
    static List<ConfigKey<?>> list(Object... items) {
        List<ConfigKey<?>> out = new ArrayList<>();
        for (Object item : items) {
            if (item instanceof ConfigKey<?> k) {
                out.add(k);
            } else {
                for (Object k : (List<?>) item) {
                    out.add((ConfigKey<?>) k);
                }
            }
        }
        return List.copyOf(out);
    }

    /** @return this key with another default, for a class whose {@code __init__} defaults differ */
    ConfigKey<T> withDefault(T value) {
        return new ConfigKey<>(name, kind, value, allowed, min, minInclusive, max, maxInclusive, unsupportedWhy,
                description);
    }

    /** @return this choice key accepting {@code values} instead */
    ConfigKey<T> withChoices(String... values) {
        if (kind != Kind.CHOICE) {
            throw new IllegalArgumentException(name + " is not a choice key");
        }
        return new ConfigKey<>(name, kind, defaultValue, Arrays.asList(values), min, minInclusive, max,
                maxInclusive, unsupportedWhy, description);
    }

    /** @return this key restricted to {@code value >= min} */
    ConfigKey<T> atLeast(double minimum) {
        return range(minimum, true, null, false);
    }

    /** @return this key restricted to {@code [minimum, maximum]} */
    ConfigKey<T> between(double minimum, double maximum) {
        return range(minimum, true, maximum, true);
    }

    /**
     * @return this key restricted to a range (NaN is outside every range); for a list key, each entry
     */
    ConfigKey<T> range(Double minimum, boolean minimumInclusive, Double maximum, boolean maximumInclusive) {
        if (kind != Kind.INTEGER && kind != Kind.NUMBER && kind != Kind.NUMBERS) {
            throw new IllegalArgumentException(name + " is not a number key");
        }
        return new ConfigKey<>(name, kind, defaultValue, allowed, minimum, minimumInclusive, maximum,
                maximumInclusive, unsupportedWhy, description);
    }

    /** @return the integer values this integer key accepts */
    ConfigKey<T> oneOf(int... values) {
        if (kind != Kind.INTEGER) {
            throw new IllegalArgumentException(name + " is not an integer key");
        }
        List<String> list = new ArrayList<>();
        for (int v : values) {
            list.add(Integer.toString(v));
        }
        return new ConfigKey<>(name, kind, defaultValue, list, min, minInclusive, max, maxInclusive, unsupportedWhy,
                description);
    }

    /** @return the JSON key */
    String name() {
        return name;
    }

    /** @return the default, or null when absence has its own meaning */
    T defaultValue() {
        return defaultValue;
    }

    /**
     * Reads and validates the key.
     *
     * @param config the configuration, with {@code _class_name} set to the reading class
     * @return the value, or the default when absent
     * @throws ConfigurationException naming the key, the class and what was expected
     */
    @SuppressWarnings("unchecked")
    T read(SchedulerConfig config) {
        Object v = switch (kind) {
            case INTEGER -> config.has(name) || defaultValue != null
                    ? (Object) config.getInt(name, (Integer) defaultValue) : null;
            case NUMBER -> defaultValue == null ? config.getOptionalDouble(name)
                    : (Object) config.getDouble(name, (Double) defaultValue);
            case BOOLEAN -> config.getBoolean(name, (Boolean) defaultValue);
            case CHOICE -> defaultValue == null && !config.has(name) ? null
                    : config.getChoice(name, (String) defaultValue, allowed.toArray(String[]::new));
            case NUMBERS -> config.getDoubleArray(name);
        };
        if (v instanceof Number n) {
            check(config, n.doubleValue(), name);
        } else if (v instanceof double[] a) {
            for (int i = 0; i < a.length; i++) {
                check(config, a[i], name + "[" + i + "]");
            }
        } else if (unsupportedWhy != null && Boolean.TRUE.equals(v)) {
            throw new ConfigurationException("scheduler config key '" + name + "' is true for " + config.className()
                    + ", which is not supported: " + unsupportedWhy);
        }
        return (T) v;
    }

    private void check(SchedulerConfig config, double v, String what) {
        boolean inRange = (min == null || (minInclusive ? v >= min : v > min))
                && (max == null || (maxInclusive ? v <= max : v < max))
                && !Double.isNaN(v);
        boolean listed = kind != Kind.INTEGER || allowed.isEmpty() || allowed.contains(Integer.toString((int) v));
        if (!inRange || !listed) {
            throw new ConfigurationException("scheduler config key '" + what + "' is " + format(v) + " for "
                    + config.className() + "; expected " + expected());
        }
    }

    /** @return what the key accepts, in words: "an integer >= 2", "one of 1, 2, 3", "a number in [0, 1)" */
    String expected() {
        String noun = switch (kind) {
            case INTEGER -> "an integer";
            case NUMBER -> "a number";
            case BOOLEAN -> "true or false";
            case CHOICE -> "one of " + String.join(", ", allowed);
            case NUMBERS -> "a list of numbers";
        };
        if (kind == Kind.INTEGER && !allowed.isEmpty()) {
            return "one of " + String.join(", ", allowed);
        }
        if (min != null && max != null) {
            return noun + (kind == Kind.NUMBERS ? ", each" : "") + " in " + (minInclusive ? "[" : "(")
                    + format(min) + ", " + format(max) + (maxInclusive ? "]" : ")");
        }
        if (min != null) {
            return noun + (kind == Kind.NUMBERS ? ", each" : "") + (minInclusive ? " >= " : " > ") + format(min);
        }
        if (max != null) {
            return noun + (kind == Kind.NUMBERS ? ", each" : "") + (maxInclusive ? " <= " : " < ") + format(max);
        }
        return noun;
    }

    /**
     * @param value what {@link #read} returned
     * @return the value as {@link io.conditio.api.Scheduler#config()} records it: numbers as Integer or Double,
     *     lists as an unmodifiable List of Double
     */
    Object recorded(T value) {
        if (value instanceof double[] a) {
            List<Double> list = new ArrayList<>(a.length);
            for (double d : a) {
                list.add(d);
            }
            return List.copyOf(list);
        }
        return value;
    }

    /** @return the key as a declaration, for listings: type, default, allowed values or range, description */
    ParameterDeclaration declaration() {
        boolean intChoice = kind == Kind.INTEGER && !allowed.isEmpty();
        // an infinite default (no clipping, no bound) is no JSON value: the description says it
        boolean infinite = defaultValue instanceof Double d && d.isInfinite();
        ParameterDeclaration.Builder b = ParameterDeclaration.builder(name, kind.type)
                .description(description + (intChoice ? " (" + expected() + ")" : "")
                        + (infinite ? " (default " + defaultValue + ")" : ""));
        if (kind == Kind.CHOICE) {
            b.allowedValues(allowed.toArray(String[]::new));
        }
        if (kind == Kind.NUMBERS) {
            b.list();
        }
        if (min != null) {
            b.minimum(min, minInclusive);
        }
        if (max != null) {
            b.maximum(max, maxInclusive);
        }
        if (defaultValue != null && !infinite) {
            b.defaultValue(defaultValue);
        }
        return b.build();
    }

    private static String format(double v) {
        return v == Math.rint(v) && !Double.isInfinite(v) && Math.abs(v) < 1e15 ? Long.toString((long) v)
                : Double.toString(v);
    }

    @Override
    public String toString() {
        return name + " (" + expected() + ", default " + defaultValue + ")";
    }
}
