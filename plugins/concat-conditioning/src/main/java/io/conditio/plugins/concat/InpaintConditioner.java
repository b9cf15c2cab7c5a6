package io.conditio.plugins.concat;

import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InpaintMask;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Ordinals;
import io.conditio.api.RgbImage;
import io.conditio.api.StepContext;
import io.conditio.api.TensorSpec;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * Inpainting, as diffusers' StableDiffusionInpaintPipeline. With a 9-channel UNet: the mask is converted to grey,
 * binarised at 0.5 (white = repaint), the masked image {@code image × (mask < 0.5)} is encoded by the VAE (a draw
 * from the generation's generator, after the initial noise), the mask is resized to the latent size (nearest), and
 * each UNet call gets {@code latents | mask | masked-image latents} along the channels, the same for every guidance
 * branch. With a regular UNet (as many input channels as latent channels) the UNet gets nothing extra; the core keeps
 * the unmasked area by latent blending, which it turns on by default for such UNets.
 *
 * <p>Request parameters: {@code mask_image} ({@link RgbImage}, required to activate), {@code init_image}
 * ({@link RgbImage}, required with a mask), {@code strength} (handled by the core's latent start: 1.0 by default for
 * inpainting, meaning pure noise).
 */
@Extension(ordinal = Ordinals.INPAINT_CHANNELS)
public final class InpaintConditioner implements Conditioner {
    /** Request parameter: the mask image. */
    public static final String MASK = "mask_image";
    /** Request parameter: the image to repaint. */
    public static final String INIT = "init_image";

    @Override
    public String id() {
        return "inpaint";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(
                ParameterDeclaration.builder(INIT, ParameterType.IMAGE)
                        .description("the image to repaint (--init-image)").build(),
                ParameterDeclaration.builder(MASK, ParameterType.IMAGE)
                        .description("inpainting mask, white = repaint; fed to a 9-channel inpainting UNet (--mask)")
                        .build());
    }

    @Override
    public Optional<Conditioning> prepare(ConditioningContext context) {
        GenerationRequest request = context.request();
        Optional<RgbImage> maskImage = request.parameter(MASK, RgbImage.class);
        if (maskImage.isEmpty()) {
            return Optional.empty();
        }
        RgbImage init = request.parameter(INIT, RgbImage.class).orElseThrow(() -> new InvalidRequestException(
                "--mask needs --init-image: the image whose masked part is repainted"));
        int[] latent = context.latentShape();
        int channels = latent[1];
        TensorSpec sample = context.unet().inputs().get("sample");
        boolean regularUnet = sample != null && sample.rank() == 4 && sample.dim(1) == channels;
        if (sample != null && sample.rank() == 4 && sample.dim(1) > 0 && !regularUnet
                && sample.dim(1) != 2L * channels + 1) {
            throw new InvalidRequestException("--mask needs a UNet with " + (2 * channels + 1) + " input channels ("
                    + channels + " latent + 1 mask + " + channels + " masked-image latents); " + context.unet().path()
                    + " has " + sample.dim(1));
        }
        int w = context.width();
        int h = context.height();
        RgbImage image = fit(init, w, h, "--init-image");
        RgbImage maskRgb = fit(maskImage.get(), w, h, "--mask");
        float[] mask = InpaintMask.binarized(maskRgb);
        RgbImage masked = Masks.maskedImage(image, mask);
        int repaint = 0;
        for (float m : mask) {
            repaint += (int) m;
        }
        String share = String.format(java.util.Locale.ROOT, "%.1f%%", 100.0 * repaint / mask.length);
        if (regularUnet) {
            // diffusers' inpainting with a regular UNet: the UNet gets no mask channels, the runtime keeps the
            // unmasked area by latent blending. diffusers still encodes the masked image (a draw from the generator)
            // before the loop; so does this, so that the draws of stochastic schedulers match.
            context.encodeImage(masked);
            return Optional.of(new MaskOnly(Map.of("mask_area", share, "unet", "regular (mask by latent blending)")));
        }
        int batch = context.branches().size();
        float[] small = InpaintMask.nearest(mask, w, h, latent[3], latent[2]);
        FloatTensor maskLatent = Masks.asBatch(small, batch, latent[2], latent[3]);
        // one sample per image of the prompt (each from its image's generator); the mask, one per branch, the host
        // repeats for every image
        FloatTensor maskedLatents = context.encodeImage(masked);
        FloatTensor[] copies = new FloatTensor[batch];
        java.util.Arrays.fill(copies, maskedLatents);
        FloatTensor maskedBatch = FloatTensor.concatBatch(copies);
        return Optional.of(new Inpainting(maskLatent, maskedBatch, Map.of("mask_area", share)));
    }

    private static RgbImage fit(RgbImage image, int w, int h, String flag) {
        if (image.width() != w || image.height() != h) {
            throw new InvalidRequestException(flag + " is " + image.width() + "x" + image.height()
                    + " but the generation is " + w + "x" + h + "; give images of the output size");
        }
        return image;
    }

    private record MaskOnly(Map<String, String> provenance) implements Conditioning {
        @Override
        public List<UnetInputDeclaration> provides() {
            return List.of();
        }

        @Override
        public void contribute(StepContext step, UnetInputs inputs) {
            // a regular UNet takes no mask input
        }
    }

    private record Inpainting(FloatTensor mask, FloatTensor maskedLatents, Map<String, String> provenance)
            implements Conditioning {
        @Override
        public List<UnetInputDeclaration> provides() {
            return List.of(UnetInputDeclaration.channels(1, "mask (--mask)"),
                    UnetInputDeclaration.channels(maskedLatents.dim(1), "masked-image latents (--mask)"));
        }

        @Override
        public void contribute(StepContext step, UnetInputs inputs) {
            inputs.appendChannels(mask);
            inputs.appendChannels(maskedLatents);
        }
    }
}
