package io.conditio.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Replacement initializers for one model component, computed by a {@link WeightPatcher}.
 *
 * <p>Each replacement keeps the name, shape and element type (float32) of the initializer it replaces, except the
 * {@link #grownTables() grown tables}: lookup tables (a text encoder's token embeddings) that gain rows. The
 * {@link #key()} identifies the patch: two patches with the same key must hold the same values, so the host may
 * reuse a session created for an earlier equal key.
 */
public final class WeightPatch {
    private final String key;
    private final Map<String, FloatTensor> initializers;
    private final List<String> report;
    private final Set<String> grownTables;

    /**
     * @param key          identifies the inputs of the patch (files with their content hashes, scales); not blank
     * @param initializers replacement values by initializer name; copied, not empty
     * @param report       human-readable lines on what was applied (for example the matched keys); copied
     */
    public WeightPatch(String key, Map<String, FloatTensor> initializers, List<String> report) {
        this(key, initializers, Set.of(), report);
    }

    /**
     * @param key          identifies the inputs of the patch; not blank
     * @param initializers replacement values by initializer name; copied, not empty
     * @param grownTables  names among {@code initializers} whose first dimension is larger than the original's:
     *                     tables read only by {@code Gather} on axis 0, such as token embeddings gaining the rows
     *                     of new tokens (the host checks this and refuses anything else); copied
     * @param report       human-readable lines on what was applied; copied
     */
    public WeightPatch(String key, Map<String, FloatTensor> initializers, Set<String> grownTables,
                       List<String> report) {
        this.key = Objects.requireNonNull(key, "key");
        if (key.isBlank()) {
            throw new IllegalArgumentException("a weight patch needs a key");
        }
        if (initializers.isEmpty()) {
            throw new IllegalArgumentException("a weight patch needs at least one initializer");
        }
        this.initializers = Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        this.report = List.copyOf(report);
        this.grownTables = Set.copyOf(grownTables);
        for (String t : this.grownTables) {
            if (!initializers.containsKey(t)) {
                throw new IllegalArgumentException("grown table " + t + " is not among the patch's initializers "
                        + initializers.keySet());
            }
        }
    }

    /** @return names of replaced initializers whose first dimension grows (rows appended); unmodifiable */
    public Set<String> grownTables() {
        return grownTables;
    }

    /** @return the identity of this patch, used as the session cache key */
    public String key() {
        return key;
    }

    /** @return replacement values by initializer name; unmodifiable */
    public Map<String, FloatTensor> initializers() {
        return initializers;
    }

    /** @return lines describing what the patch applied; unmodifiable */
    public List<String> report() {
        return report;
    }

    @Override
    public String toString() {
        return "WeightPatch[" + key + ", " + initializers.size() + " initializers]";
    }
}
