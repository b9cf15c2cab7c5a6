package io.conditio.plugins.concat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.RgbImage;
import io.conditio.api.TensorSpec;

/** When a request is an instruct-pix2pix request, and its image guidance scale. */
final class Pix2Pix {
    /** Request parameter: the image guidance scale (Number, default 1.5 as in diffusers). */
    static final String IMAGE_GUIDANCE = "image_guidance_scale";
    /** diffusers' default image guidance scale. */
    static final double DEFAULT_IMAGE_GUIDANCE = 1.5;

    private Pix2Pix() {
    }

    /**
     * @return true when the UNet takes twice the latent channels and the request gives an init image (and no mask)
     */
    static boolean applies(GenerationRequest request, Model unet, int latentChannels) {
        TensorSpec sample = unet.inputs().get("sample");
        boolean imageUnet = sample != null && sample.rank() == 4 && sample.dim(1) == 2L * latentChannels;
        boolean hasImage = request.parameters().get(InpaintConditioner.INIT) instanceof RgbImage;
        boolean hasMask = request.parameters().containsKey(InpaintConditioner.MASK);
        if (request.parameters().containsKey(IMAGE_GUIDANCE) && !(imageUnet && hasImage && !hasMask)) {
            throw new InvalidRequestException("--image-guidance needs --init-image and a UNet with "
                    + 2 * latentChannels + " input channels (instruct-pix2pix); " + unet.path() + " has "
                    + (sample == null ? "no sample input" : sample.dim(1) + " channels"));
        }
        return imageUnet && hasImage && !hasMask;
    }

    static double imageGuidance(GenerationRequest request) {
        double ig = request.parameter(IMAGE_GUIDANCE, Number.class).map(Number::doubleValue)
                .orElse(DEFAULT_IMAGE_GUIDANCE);
        if (!(ig >= 0) || Double.isInfinite(ig)) {
            throw new InvalidRequestException("image guidance scale must be a finite number >= 0, got " + ig);
        }
        return ig;
    }

    /** diffusers: guidance runs when guidance_scale > 1 and image_guidance_scale >= 1. */
    static boolean guided(GenerationRequest request) {
        return request.guidanceScale() > 1.0 && imageGuidance(request) >= 1.0;
    }
}
