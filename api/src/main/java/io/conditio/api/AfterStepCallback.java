package io.conditio.api;

import org.pf4j.ExtensionPoint;

/**
 * Hook called after each scheduler step, with the updated latents: progress, previews, cancellation.
 * Same ordering as {@link BeforeStepCallback}.
 */
@FunctionalInterface
public interface AfterStepCallback extends ExtensionPoint {
    /** @param context the step just finished; {@link StepContext#latents()} are the new latents; never null */
    void afterStep(StepContext context);
}
