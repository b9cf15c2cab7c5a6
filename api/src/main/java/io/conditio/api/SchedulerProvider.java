package io.conditio.api;

import java.util.List;
import org.pf4j.ExtensionPoint;

/**
 * Extension point: one scheduler algorithm. Implementations are stateless and shared; {@link #create} hands out a
 * fresh {@link Scheduler} for each generation.
 *
 * <p>The core chooses a provider by the diffusers class name in a scheduler config ({@code _class_name}) or by a
 * preset name; a named preset inherits the model folder's scheduler config and applies its overrides on top, as
 * diffusers' {@code from_config} does.
 */
public interface SchedulerProvider extends ExtensionPoint {

    /** @return the diffusers class names this provider implements, e.g. {@code ["EulerDiscreteScheduler"]}; never empty */
    List<String> classNames();

    /** @return the short names users may type, each with its overrides; may be empty */
    List<SchedulerPreset> presets();

    /**
     * Creates a scheduler for one generation.
     *
     * @param config the configuration (model folder config, request overrides, preset overrides)
     * @return a new scheduler; {@link Scheduler#setTimesteps} not yet called
     * @throws ConfigurationException when a key holds a value this scheduler does not support
     */
    Scheduler create(SchedulerConfig config);

    /**
     * The {@code scheduler_config.json} keys a class reads, for listings ({@code conditio plugins --scheduler-keys}):
     * each key's JSON type, the default the class uses when it is absent, its allowed values or range, and a line
     * saying what it does. Keys a class does not list are kept in its effective config but not read.
     *
     * @param className one of {@link #classNames()}
     * @return the keys, in the order the class reads them; empty by default (the provider documents none)
     */
    default List<ParameterDeclaration> configKeys(String className) {
        return List.of();
    }

    /**
     * The request parameters this extension reads from {@link GenerationRequest#parameters()}. The host validates
     * every request against the declarations of all loaded plugins before anything runs, and lists them
     * ({@code conditio plugins --parameters}). Since SPI 0.2.0; a plugin that requires 0.2.0 or later and does not
     * override this declares that it reads no parameters.
     *
     * @return the declarations; empty by default
     */
    default List<ParameterDeclaration> parameters() {
        return List.of();
    }
}
