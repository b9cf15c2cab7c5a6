package io.conditio.api;

import java.util.Map;
import java.util.Objects;

/**
 * A short name users type ({@code --scheduler dpm++2m-karras}) for a scheduler class plus config overrides. A provider
 * that implements several classes names the preset's class with the {@code _class_name} override; without one the
 * preset selects the provider's first class name.
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

    /**
     * @param provider the provider that offers this preset
     * @return the diffusers class this preset selects: its {@code _class_name} override, else the provider's first
     *         class name
     */
    public String className(SchedulerProvider provider) {
        return overrides.get(SchedulerConfig.CLASS_NAME) instanceof String c ? c : provider.classNames().get(0);
    }
}
