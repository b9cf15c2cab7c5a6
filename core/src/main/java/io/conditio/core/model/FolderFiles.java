package io.conditio.core.model;

import io.conditio.api.ModelLoadException;
import io.conditio.core.json.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Type checks of a model folder's own JSON files, so that a wrong value is an error naming the file and the key
 * instead of a setting silently ignored: {@code model_index.json} (diffusers' pipeline index) and
 * {@code conditio_defaults.json} (the settings the model's authors suggest).
 */
final class FolderFiles {
    /** The keys {@code conditio_defaults.json} may hold. */
    static final List<String> DEFAULTS_KEYS = List.of("steps", "guidance_scale", "mask_blend");
    /** The most steps a folder may suggest; diffusers' schedulers train on 1000 timesteps. */
    static final int MAX_SUGGESTED_STEPS = 1000;

    private static final Set<String> INDEX_STRINGS = Set.of("_class_name", "_diffusers_version", "_name_or_path");
    private static final Set<String> INDEX_BOOLEANS = Set.of("force_zeros_for_empty_prompt",
            "requires_safety_checker", "requires_aesthetics_score", "is_distilled");

    private FolderFiles() {
    }

    /**
     * @param file  model_index.json
     * @param index its parsed content
     * @throws ModelLoadException naming the file and key of the first value of the wrong type
     */
    static void checkModelIndex(Path file, Map<String, Object> index) {
        for (Map.Entry<String, Object> e : index.entrySet()) {
            String key = e.getKey();
            Object v = e.getValue();
            if (INDEX_STRINGS.contains(key)) {
                if (!(v instanceof String)) {
                    throw wrong(file, key, v, "a string");
                }
            } else if (INDEX_BOOLEANS.contains(key)) {
                if (!(v instanceof Boolean)) {
                    throw wrong(file, key, v, "true or false");
                }
            } else if (v instanceof List<?> pair) {
                if (pair.size() != 2 || !pair.stream().allMatch(x -> x == null || x instanceof String)) {
                    throw wrong(file, key, v, "a [library, class] pair of strings (or [null, null] for none)");
                }
            } else if (v instanceof Map) {
                throw wrong(file, key, v, "a [library, class] pair, a string, a number or a boolean");
            }
        }
    }

    /**
     * @param file     conditio_defaults.json
     * @param defaults its parsed content
     * @throws ModelLoadException naming the file and key of an unknown key or a value of the wrong type or range
     */
    static void checkDefaults(Path file, Map<String, Object> defaults) {
        for (Map.Entry<String, Object> e : defaults.entrySet()) {
            String key = e.getKey();
            Object v = e.getValue();
            switch (key) {
                case "steps" -> {
                    if (!(v instanceof Long n) || n < 1 || n > MAX_SUGGESTED_STEPS) {
                        throw wrong(file, key, v, "a whole number from 1 to " + MAX_SUGGESTED_STEPS);
                    }
                }
                case "guidance_scale" -> {
                    if (!(v instanceof Number n) || !(n.doubleValue() >= 0) || Double.isInfinite(n.doubleValue())) {
                        throw wrong(file, key, v, "a finite number >= 0");
                    }
                }
                case "mask_blend" -> {
                    if (!(v instanceof Boolean)) {
                        throw wrong(file, key, v, "true or false");
                    }
                }
                default -> throw new ModelLoadException(file + ": unknown key '" + key + "'; the known keys are "
                        + String.join(", ", DEFAULTS_KEYS));
            }
        }
    }

    private static ModelLoadException wrong(Path file, String key, Object value, String expected) {
        String shown = value instanceof String s ? "\"" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "\""
                : String.valueOf(value);
        if (shown.length() > 60) {
            shown = shown.substring(0, 60) + "…";
        }
        return new ModelLoadException(file + ": key '" + key + "' is " + Json.typeName(value) + " (" + shown
                + "); expected " + expected);
    }
}
