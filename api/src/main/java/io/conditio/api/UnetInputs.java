package io.conditio.api;

import java.util.Optional;

/**
 * The inputs of one UNet call, filled by the conditionings during {@link Conditioning#contribute}. Batch order is
 * the guidance's {@link StepContext#branches()}.
 */
public interface UnetInputs {

    /** @return the scaled latent batch (before any channel concatenation); read-only */
    FloatTensor sample();

    /** @return the UNet batch size (branches × 1) */
    int batchSize();

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
