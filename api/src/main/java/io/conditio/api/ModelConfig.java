package io.conditio.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * A model component's {@code config.json} (diffusers writes one beside each model: {@code num_class_embeds},
 * {@code layers_per_block}, {@code block_out_channels}, ...), as parsed JSON values with typed, optional getters.
 * Immutable. A JSON {@code null} counts as absent.
 */
public final class ModelConfig {
    private static final ModelConfig EMPTY = new ModelConfig(Map.of(), null);

    private final Map<String, Object> values;
    private final Path source;

    private ModelConfig(Map<String, Object> values, Path source) {
        this.values = values;
        this.source = source;
    }

    /**
     * @param values parsed JSON values by key; copied
     * @param source the file they were read from, or null
     * @return a configuration
     */
    public static ModelConfig of(Map<String, ?> values, Path source) {
        return new ModelConfig(Collections.unmodifiableMap(new LinkedHashMap<>(values)), source);
    }

    /** @return a configuration without entries, for models without a config.json */
    public static ModelConfig empty() {
        return EMPTY;
    }

    /** @return every entry; unmodifiable */
    public Map<String, Object> asMap() {
        return values;
    }

    /** @return the config.json this was read from, or empty when there was none */
    public Optional<Path> source() {
        return Optional.ofNullable(source);
    }

    /**
     * @param key a top-level key
     * @return its value when it is an integral number, else empty
     */
    public OptionalLong integer(String key) {
        Object v = values.get(key);
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return OptionalLong.of(n.longValue());
        }
        return OptionalLong.empty();
    }

    /**
     * @param key a top-level key
     * @return its value when it is a number, else empty
     */
    public OptionalDouble number(String key) {
        return values.get(key) instanceof Number n ? OptionalDouble.of(n.doubleValue()) : OptionalDouble.empty();
    }

    /**
     * @param key a top-level key
     * @return its value when it is a string, else empty
     */
    public Optional<String> string(String key) {
        return values.get(key) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    /**
     * @param key a top-level key
     * @return true only when the value is the boolean {@code true}
     */
    public boolean flag(String key) {
        return Boolean.TRUE.equals(values.get(key));
    }

    /**
     * @param key a top-level key
     * @return its value when it is a list of integral numbers, else empty
     */
    public Optional<List<Integer>> integers(String key) {
        if (!(values.get(key) instanceof List<?> list)) {
            return Optional.empty();
        }
        List<Integer> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
                return Optional.empty();
            }
            out.add(n.intValue());
        }
        return Optional.of(Collections.unmodifiableList(out));
    }

    @Override
    public String toString() {
        return (source == null ? "config" : source.toString()) + values;
    }
}
