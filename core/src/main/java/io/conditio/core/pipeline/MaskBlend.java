package io.conditio.core.pipeline;

import io.conditio.api.FloatTensor;
import io.conditio.api.InpaintMask;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.api.Scheduler;

/**
 * Inpainting's latent mask blending: after every scheduler step the latents outside the mask are replaced by the init
 * image's latents noised to the next step's timestep with the generation's initial noise (after the last step: the
 * init image's latents themselves), so the unmasked area ends as the VAE's reading of the init image. The request's
 * {@code mask_blend} decides, else the model folder's {@code conditio_defaults.json}, else diffusers' choice:
 * StableDiffusionInpaintPipeline blends for a regular UNet (the latent channels only) and leaves the unmasked area to
 * the model for a 9-channel inpainting UNet.
 */
final class MaskBlend {
    /** Request parameter (Boolean): blend the unmasked latents with the init image's after every step. */
    static final String PARAMETER = "mask_blend";

    private final float[] keep;
    private final FloatTensor imageLatents;
    private final FloatTensor noise;
    /** The init latents noised to the next timestep, rewritten every step. */
    private FloatTensor noised;
    /** The blended latents, rewritten every step: the next step reads them and writes into its own buffer. */
    private FloatTensor blended;

    private MaskBlend(float[] keep, FloatTensor imageLatents, FloatTensor noise) {
        this.keep = keep;
        this.imageLatents = imageLatents;
        this.noise = noise;
    }

    /**
     * @param mask         the request's mask image, white = repaint, at the output size
     * @param imageLatents the init image's latents {@code [n, c, h, w]}, one entry per image
     * @param noise        the generation's initial noise, the same shape
     * @param width        the output width
     * @param height       the output height
     */
    static MaskBlend of(RgbImage mask, FloatTensor imageLatents, FloatTensor noise, int width, int height) {
        int h = imageLatents.dim(2);
        int w = imageLatents.dim(3);
        if (!imageLatents.sameShape(noise)) {
            throw new IllegalArgumentException("mask blending needs [n, c, h, w] image latents and noise of the same "
                    + "shape; got " + java.util.Arrays.toString(imageLatents.shape()) + " and "
                    + java.util.Arrays.toString(noise.shape()));
        }
        if (mask.width() != width || mask.height() != height) {
            throw new InvalidRequestException("--mask is " + mask.width() + "x" + mask.height() + " but the generation "
                    + "is " + width + "x" + height + "; give a mask of the output size");
        }
        float[] repaint = InpaintMask.nearest(InpaintMask.binarized(mask), mask.width(), mask.height(), w, h);
        float[] keep = new float[repaint.length];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = 1f - repaint[i];
        }
        return new MaskBlend(keep, imageLatents, noise);
    }

    /**
     * Blends into buffers kept for the generation: the noised init latents ({@link Scheduler#addNoiseInto}) and
     * the result, which the loop's next step reads as its sample and writes out of into one of its own buffers.
     *
     * @param latents   the scheduler's output of step {@code index}; not modified
     * @param index     the step just taken
     * @param timesteps the timesteps the loop visits
     * @param scheduler the generation's scheduler (its {@code add_noise})
     * @return {@code keep × init_noised + (1 − keep) × latents}, in this blend's buffer until the next call
     */
    FloatTensor apply(FloatTensor latents, int index, float[] timesteps, Scheduler scheduler) {
        FloatTensor proper = imageLatents;
        if (index < timesteps.length - 1) {
            if (noised == null) {
                noised = FloatTensor.zeros(imageLatents.shape());
            }
            proper = scheduler.addNoiseInto(imageLatents, noise, timesteps[index + 1], noised);
        }
        if (blended == null || !blended.sameShape(latents)) {
            blended = FloatTensor.zeros(latents.shape());
        }
        float[] x = latents.array();
        float[] out = blended.array();
        float[] init = proper.array();
        int plane = keep.length;
        for (int i = 0; i < out.length; i++) {
            float k = keep[i % plane];
            out[i] = (1f - k) * x[i] + k * init[i];
        }
        return blended;
    }
}
