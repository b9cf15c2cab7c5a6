package io.conditio.api;

import java.util.Optional;

/**
 * The inputs of one UNet call, filled by the conditionings during {@link Conditioning#contribute}. Batch order is
 * the guidance's {@link StepContext#branches()}, each branch holding one entry per image of the prompt
 * ({@link #imagesPerPrompt()}): entry {@code branch × images + image}, as diffusers concatenates
 * {@code [negative × n, positive × n]}.
 *
 * <p>A tensor given to {@link #put}, {@link #appendChannels} or {@link #addResidual} may have the full batch or one
 * entry per branch; the latter is repeated for every image ({@link FloatTensor#repeatInterleave}, diffusers'
 * {@code repeat_interleave(num_images_per_prompt)}), so a conditioning whose inputs do not depend on the latents
 * needs no change for several images.
 */
public interface UnetInputs {

    /** @return the scaled latent batch (before any channel concatenation); read-only */
    FloatTensor sample();

    /** @return the UNet batch size (branches × images per prompt) */
    int batchSize();

    /** @return the images per prompt, the batch entries of each branch. Since SPI 0.3.0; the default is 1. */
    default int imagesPerPrompt() {
        return 1;
    }

    /**
     * Sets a named input.
     *
     * @param name  a UNet input name the conditioning declared
     * @param value the value, batch first
     * @throws InvalidRequestException if another conditioning already set it
     */
    void put(String name, Tensor value);

    /**
     * Appends channels to {@code sample}, after the latents and after channels appended earlier this step.
     *
     * @param channels an NCHW tensor with the batch size and spatial size of {@link #sample()}
     */
    void appendChannels(FloatTensor channels);

    /**
     * Adds to a residual input; several contributions are summed element-wise.
     *
     * @param name  a UNet residual input name the conditioning declared
     * @param value the residual, batch first
     */
    void addResidual(String name, FloatTensor value);

    /**
     * @param name an input name
     * @return what has been set so far under that name
     */
    Optional<Tensor> get(String name);
}
