package io.conditio.api;

import java.util.Map;
import java.util.Objects;

/**
 * A short name users type ({@code --scheduler dpm++2m-karras}) for a scheduler class plus config overrides.
 *
 * @param name        the name, lower case, e.g. {@code euler-a}
 * @param overrides   config keys set on top of the model folder's scheduler config
 * @param description one line for listings
 */
public record SchedulerPreset(String name, Map<String, Object> overrides, String description) {
    /** Validates and copies. */
    public SchedulerPreset {
        Objects.requireNonNull(name, "name");
        overrides = Map.copyOf(overrides);
        Objects.requireNonNull(description, "description");
    }
}
