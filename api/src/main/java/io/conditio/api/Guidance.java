package io.conditio.api;

import java.util.List;

/**
 * How model calls are batched and their outputs combined for one generation. The default is classifier-free
 * guidance as diffusers runs it: batch {@code [uncond, cond]}, one UNet call per timestep,
 * {@code noise = uncond + g * (cond - uncond)}.
 */
public interface Guidance {

    /** @return the branches of the UNet batch, in batch order; never empty */
    List<GuidanceBranch> branches();

    /**
     * Builds the UNet's latent batch from the current latents.
     *
     * @param latents the current latents, batch 1
     * @return latents repeated once per branch along the batch axis
     */
    FloatTensor expand(FloatTensor latents);

    /**
     * Combines the UNet output of all branches into one prediction.
     *
     * @param modelOutput the UNet output, one entry per branch along the batch axis
     * @param step        the current step
     * @return the guided prediction, batch 1
     */
    FloatTensor combine(FloatTensor modelOutput, StepContext step);

    /** @return a one-line description for provenance, e.g. {@code cfg(7.5)} */
    String describe();
}
