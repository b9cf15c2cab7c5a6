package io.conditio.api;

import org.pf4j.ExtensionPoint;

/**
 * Hook called before each model call of the denoise loop, after the timestep is known and before the UNet inputs
 * are built. Hooks run in the order they were registered: plugin extensions (ordered by {@code @Extension(ordinal)}),
 * then the request's own callbacks.
 */
@FunctionalInterface
public interface BeforeStepCallback extends ExtensionPoint {
    /** @param context the current step; never null */
    void beforeStep(StepContext context);
}
