package io.conditio.api;

import java.util.List;

/**
 * How model calls are batched and their outputs combined for one generation. The default is classifier-free
 * guidance as diffusers runs it: batch {@code [uncond, cond]}, one UNet call per timestep,
 * {@code noise = uncond + g * (cond - uncond)}.
 *
 * <p>With several images per prompt (since SPI 0.3.0) the latents have batch {@code n}, the UNet batch is branch
 * major ({@code [uncond × n, cond × n]}, as diffusers' {@code torch.cat([latents] * 2)}) and the prediction has
 * batch {@code n}; combining must act on each image alone.
 */
public interface Guidance {

    /** @return the branches of the UNet batch, in batch order; never empty */
    List<GuidanceBranch> branches();

    /**
     * Builds the UNet's latent batch from the current latents.
     *
     * @param latents the current latents, batch {@code n} (the images per prompt)
     * @return the latents repeated once per branch along the batch axis, batch {@code branches × n}
     */
    FloatTensor expand(FloatTensor latents);

    /**
     * Combines the UNet output of all branches into one prediction.
     *
     * @param modelOutput the UNet output, {@code n} entries per branch along the batch axis, branch major
     * @param step        the current step
     * @return the guided prediction, batch {@code n}
     */
    FloatTensor combine(FloatTensor modelOutput, StepContext step);

    /**
     * {@link #expand} for a host that reuses its step buffers. Since SPI 0.3.0; the default returns
     * {@code expand(latents)}.
     *
     * @param latents the current latents, batch 1
     * @param into    a tensor of the batch's shape (one entry per branch) to write the batch into; the host writes
     *                into it again later, so it may not be kept
     * @return the batch: {@code into}, {@code latents} itself for a single branch, or a new tensor
     */
    default FloatTensor expandInto(FloatTensor latents, FloatTensor into) {
        return expand(latents);
    }

    /**
     * {@link #combine} for a host that reuses its step buffers. Since SPI 0.3.0; the default calls
     * {@code combine} on a copy of {@code modelOutput}, so a guidance that implements only {@code combine} (and may
     * keep what it is given) keeps working unchanged.
     *
     * <p>An implementation writes the prediction into {@code into} and returns it (or returns {@code modelOutput}
     * when it uses the output as it is). {@code modelOutput} and {@code into} belong to the host, which writes into
     * them again in later steps. The arithmetic must be that of {@code combine}, value for value.
     *
     * @param modelOutput the UNet output, one entry per branch; valid during the call only
     * @param step        the current step
     * @param into        a tensor of {@code modelOutput}'s shape with batch 1
     * @return the guided prediction, batch 1: {@code into}, {@code modelOutput}, or a new tensor
     */
    default FloatTensor combineInto(FloatTensor modelOutput, StepContext step, FloatTensor into) {
        return combine(modelOutput.copy(), step);
    }

    /** @return a one-line description for provenance, e.g. {@code cfg(7.5)} */
    String describe();
}
