package io.conditio.core.pipeline;

import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.api.TensorSpec;
import io.conditio.core.MemoryLimit;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.plugin.PluginGuard;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;

/**
 * What one generation runs with, resolved once before anything is allocated, from the request, the model folder's
 * suggestions ({@code conditio_defaults.json}) and the plugins: the one context the rest of the generation reads.
 *
 * @param request       the request, with the folder's suggested guidance scale applied when it set none
 * @param seed          the seed, drawn when the request has none
 * @param width         the output width in pixels, a multiple of the VAE factor
 * @param height        the output height in pixels, a multiple of the VAE factor
 * @param steps         the number of inference steps
 * @param latentShape   {@code [1, latent channels, height / factor, width / factor]}: one image's
 * @param images        the images per prompt: the latents' batch
 * @param unetComponent the UNet variant's folder name ({@link UnetVariant})
 * @param unet          that UNet
 * @param guidance      the guidance chain, each layer guarded
 * @param scheduler     the scheduler provider and its effective config
 * @param initImage     the init image, when the request has one
 * @param mask          the inpainting mask, when the request has one
 * @param maskBlend     whether the unmasked latents are blended back after every step ({@link MaskBlend})
 */
record GenerationSettings(GenerationRequest request, long seed, int width, int height, int steps, int[] latentShape,
        int images, String unetComponent, OnnxModel unet, GuidanceChain guidance, SchedulerCatalog.Choice scheduler,
        Optional<RgbImage> initImage, Optional<RgbImage> mask, boolean maskBlend) {

    /** Steps used when neither the request nor the model folder says. */
    static final int DEFAULT_STEPS = 20;

    /** @return {@code [images, latent channels, height / factor, width / factor]} */
    int[] batchLatentShape() {
        int[] s = latentShape.clone();
        s[0] = images;
        return s;
    }

    /** @return the UNet's {@code sample} input, or null when it declares none */
    TensorSpec unetSample() {
        return unet.inputs().get("sample");
    }

    /**
     * @param pipeline the pipeline: model folder
     * @param plugins  the extensions the generation uses
     * @param asked    the request as given
     * @param guard    the guard for calls into guidance providers
     * @return the settings
     * @throws io.conditio.api.ConditioException (a subtype) when the request cannot run on this model folder
     */
    static GenerationSettings resolve(Pipeline pipeline, Pipeline.Plugins plugins, GenerationRequest asked,
            PluginGuard guard) {
        ModelFolder folder = pipeline.folder();
        long seed = asked.seed().orElseGet(() -> new SecureRandom().nextLong() & 0xFFFF_FFFFL);
        int factor = folder.vaeSpatialFactor();
        // the decoder's numbers are read again after the loop; a wrong one must fail before the first step
        folder.vaeScalingFactor();
        folder.vaeShiftFactor();
        int defaultSize = folder.unetSampleSize() * factor;
        Optional<RgbImage> init = asked.parameter(LatentStart.INIT_IMAGE, RgbImage.class);
        // like diffusers' image pipelines, an init image sets the default size
        int width = asked.width().orElse(init.map(RgbImage::width).orElse(defaultSize));
        int height = asked.height().orElse(init.map(RgbImage::height).orElse(defaultSize));
        if (width % factor != 0 || height % factor != 0) {
            throw new InvalidRequestException("image size " + width + "x" + height + " is not a multiple of " + factor
                    + ", the VAE factor of " + folder.root());
        }
        int images = asked.imagesPerPrompt();
        MemoryLimit.check((images == 1 ? "a " + width + "x" + height + " image"
                : images + " images of " + width + "x" + height + " (images per prompt)"),
                MemoryLimit.generationBytes(width, height, folder.vaeFullResolutionChannels(), images));
        Map<String, Object> suggested = folder.suggestedDefaults();
        int steps = asked.steps().orElse(suggested.get("steps") instanceof Number n ? n.intValue() : DEFAULT_STEPS);
        GenerationRequest request = asked;
        if (!asked.guidanceScaleSet() && suggested.get("guidance_scale") instanceof Number g) {
            // the folder's recommendation replaces the generic default, for plugins too
            request = asked.toBuilder().optGuidanceScale(g.doubleValue()).build();
        }
        String unetComponent = UnetVariant.choose(folder, request, plugins.conditioners(), guard);
        int halvings = folder.unetDownsampling(unetComponent);
        if ((height / factor) % halvings != 0 || (width / factor) % halvings != 0) {
            throw new InvalidRequestException("image size " + width + "x" + height + " does not fit the UNet of "
                    + folder.root().resolve(unetComponent) + ": it halves the latent " + Integer.numberOfTrailingZeros(
                    halvings) + " time(s), so width and height must be multiples of " + factor * halvings
                    + " (e.g. " + roundTo(width, factor * halvings) + "x" + roundTo(height, factor * halvings) + ")");
        }
        OnnxModel unet = WeightPatching.model(plugins.weightPatchers(), folder, request, guard, unetComponent);
        GuidanceChain guidance = GuidanceChain.build(plugins.guidanceProviders(), request, unet, guard,
                pipeline.host()::origin);
        SchedulerCatalog.Choice choice = plugins.schedulers().resolve(folder.schedulerConfig(), request.scheduler(),
                request.schedulerConfig());
        int[] latentShape = {1, folder.latentChannels(), height / factor, width / factor};
        Optional<RgbImage> mask = request.parameter(LatentStart.MASK_IMAGE, RgbImage.class);
        // blending: as asked, else as the folder suggests, else as diffusers does: only for a regular UNet
        boolean blend = mask.isPresent() && init.isPresent() && request.parameter(MaskBlend.PARAMETER, Boolean.class)
                .orElseGet(() -> suggested.get(MaskBlend.PARAMETER) instanceof Boolean b ? b
                        : LatentStart.plainUnet(unet.inputs().get("sample"), latentShape[1]));
        return new GenerationSettings(request, seed, width, height, steps, latentShape, images, unetComponent, unet,
                guidance,
                choice, init, mask, blend);
    }

    private static int roundTo(int size, int multiple) {
        return Math.max(multiple, Math.round(size / (float) multiple) * multiple);
    }
}
