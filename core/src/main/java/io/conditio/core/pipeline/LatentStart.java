package io.conditio.core.pipeline;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RandomSource;
import io.conditio.api.RgbImage;
import io.conditio.api.Scheduler;
import io.conditio.api.TensorSpec;
import java.util.Arrays;
import java.util.Optional;

/**
 * Where the denoise loop starts, as diffusers' pipelines decide it.
 * <ul>
 *   <li>txt2img: {@code randn × init_noise_sigma}, all timesteps.</li>
 *   <li>img2img ({@code init_image} with a UNet whose sample has as many channels as the latents): the image encoded
 *       by the VAE (a draw), then noise (a draw), {@code add_noise} at the first kept timestep; the first
 *       {@code steps − int(steps × strength)} steps are skipped (StableDiffusionImg2ImgPipeline).</li>
 *   <li>inpainting ({@code init_image} and {@code mask_image}): as img2img when strength &lt; 1, pure noise when
 *       strength is 1 (StableDiffusionInpaintPipeline); the mask channels come from a conditioning plugin.</li>
 *   <li>any other UNet (e.g. instruct-pix2pix's 8 channels): the init image is a condition, not a start: txt2img.</li>
 * </ul>
 */
final class LatentStart {
    /** Request parameter: the init image ({@link RgbImage}). */
    static final String INIT_IMAGE = "init_image";
    /** Request parameter: the mask image ({@link RgbImage}), white = repaint. */
    static final String MASK_IMAGE = "mask_image";
    /** Request parameter: img2img strength in (0, 1] (Number). */
    static final String STRENGTH = "strength";

    private LatentStart() {
    }

    /**
     * The initial latents and the timesteps to visit; for img2img and inpainting also the init image's latents and
     * the noise added to them (null when not computed: txt2img, or inpainting from pure noise without mask blending).
     */
    record Start(FloatTensor latents, float[] timesteps, String mode, Double strength, FloatTensor imageLatents,
            FloatTensor noise) {
    }

    /**
     * @param unetSample     the UNet's {@code sample} input, or null when it declares none
     * @param latentChannels the VAE's latent channels
     * @return whether the UNet takes the latents alone (no extra channels), or does not say
     */
    static boolean plainUnet(TensorSpec unetSample, int latentChannels) {
        return unetSample == null || unetSample.rank() != 4 || unetSample.dim(1) < 0
                || unetSample.dim(1) == latentChannels;
    }

    /**
     * @param settings  the generation's settings: request, steps, latent shape, UNet, size; with mask blending on,
     *                  the init image is also encoded when inpainting starts from pure noise (as diffusers'
     *                  {@code return_image_latents}, before the noise is drawn)
     * @param scheduler the generation's scheduler, timesteps set
     * @param random    the generation's generators, one per image
     * @param encoder   the VAE encoder
     * @return where the loop starts
     */
    static Start prepare(GenerationSettings settings, Scheduler scheduler, RandomSource random, ImageEncoder encoder) {
        GenerationRequest request = settings.request();
        int steps = settings.steps();
        int[] latentShape = settings.batchLatentShape();
        int images = settings.images();
        Optional<RgbImage> init = request.parameter(INIT_IMAGE, RgbImage.class);
        boolean inpaint = request.parameters().containsKey(MASK_IMAGE);
        boolean plainUnet = plainUnet(settings.unetSample(), latentShape[1]);
        Optional<Double> strengthParam = request.parameter(STRENGTH, Number.class).map(Number::doubleValue);
        if (init.isEmpty() || !(plainUnet || inpaint)) {
            if (strengthParam.isPresent() && init.isEmpty()) {
                throw new InvalidRequestException("strength " + strengthParam.get() + " needs an init image "
                        + "(--init-image)");
            }
            float[] timesteps = scheduler.timesteps();
            FloatTensor noise = random.randn(latentShape);
            return new Start(noise.mul(scheduler.initNoiseSigma()), timesteps, "txt2img", null, null, null);
        }
        double strength = strengthParam.orElse(inpaint ? 1.0 : 0.8);
        if (!(strength > 0 && strength <= 1)) {
            throw new InvalidRequestException("strength must be in (0, 1], got " + strength);
        }
        float[] all = scheduler.timesteps();
        int order = scheduler.order();
        int initTimestep = Math.min((int) (steps * strength), steps);
        int tStart = Math.max(steps - initTimestep, 0);
        float[] timesteps = Arrays.copyOfRange(all, Math.min(tStart * order, all.length), all.length);
        if (initTimestep < 1 || timesteps.length == 0) {
            throw new InvalidRequestException("strength " + strength + " with " + steps + " steps leaves no step to "
                    + "run; raise --strength or --steps");
        }
        scheduler.setBeginIndex(tStart * order);
        RgbImage image = Images.fit(init.get(), settings.width(), settings.height());
        if (inpaint && strength >= 1.0) {
            FloatTensor imageLatents = settings.maskBlend() ? encoder.encode(image, random, images) : null;
            FloatTensor noise = random.randn(latentShape);
            return new Start(noise.mul(scheduler.initNoiseSigma()), timesteps, "inpaint", strength, imageLatents,
                    noise);
        }
        FloatTensor imageLatents = encoder.encode(image, random, images);
        FloatTensor noise = random.randn(imageLatents.shape());
        FloatTensor latents = scheduler.addNoise(imageLatents, noise, timesteps[0]);
        return new Start(latents, timesteps, inpaint ? "inpaint" : "img2img", strength, imageLatents, noise);
    }
}
