package io.conditio.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything needed to regenerate a result: model folder, plugin ids and versions, scheduler config, seed, steps,
 * guidance, conditioning parameters and timings, as ordered string entries. Written into PNG text chunks.
 *
 * @param entries the entries in a stable order; unmodifiable
 */
public record Provenance(Map<String, String> entries) {

    /** Copies the entries, keeping their order. */
    public Provenance {
        entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /**
     * @param key a key such as {@code seed}
     * @return the value, or null when absent
     */
    public String get(String key) {
        return entries.get(key);
    }
}
