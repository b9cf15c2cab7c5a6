package io.conditio.core.pipeline;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.RandomSource;
import io.conditio.api.RgbImage;
import io.conditio.api.Tensor;
import io.conditio.core.model.ModelFolder;
import java.util.Map;

/**
 * The VAE encoder as diffusers' pipelines use it: image in [-1, 1] → latent distribution → sample → × scaling factor.
 * Accepts both exports: {@code latent_parameters} (mean ‖ logvar; sampled here with noise from the generation's
 * generator) and {@code latent_sample} (sampled inside the graph).
 */
public final class ImageEncoder {
    private final ModelFolder folder;

    /** @param folder the model folder whose {@code vae_encoder} encodes */
    public ImageEncoder(ModelFolder folder) {
        this.folder = folder;
    }

    /**
     * @param image the image, the size of the generation
     * @return the unscaled mean of the latent distribution ({@code latent_dist.mode()})
     */
    public FloatTensor mode(RgbImage image) {
        Model encoder = encoder();
        Map<String, Tensor> out = encoder.run(Map.of(encoder.inputs().keySet().iterator().next(),
                image.toSignedNchw()));
        if (out.get("latent_parameters") instanceof FloatTensor params) {
            int[] s = params.shape();
            int c = s[1] / 2;
            int plane = s[2] * s[3];
            float[] mean = new float[s[0] * c * plane];
            for (int b = 0; b < s[0]; b++) {
                System.arraycopy(params.array(), b * 2 * c * plane, mean, b * c * plane, c * plane);
            }
            return FloatTensor.of(mean, s[0], c, s[2], s[3]);
        }
        throw new InvalidRequestException(encoder + " outputs " + out.keySet() + "; the latent mode needs an encoder "
                + "that outputs 'latent_parameters' (mean and logvar), as optimum exports it");
    }

    private Model encoder() {
        return folder.optionalModel("vae_encoder").orElseThrow(() -> new InvalidRequestException(
                "encoding an image needs a VAE encoder, but " + folder.root().resolve("vae_encoder/model.onnx")
                        + " does not exist"));
    }

    /**
     * @param image  the image, the size of the generation
     * @param random the generation's generator, for encoders that output the distribution's parameters
     * @return scaled latents ({@code latent_dist.sample(generator) * scaling_factor})
     */
    public FloatTensor encode(RgbImage image, RandomSource random) {
        return encode(image, random, 1);
    }

    /**
     * Encodes once and samples the distribution once per image, with one draw of shape {@code [images, c, h, w]}
     * (with {@link io.conditio.core.random.ImageGenerators} entry {@code k} comes from image {@code k}'s generator,
     * as diffusers' img2img pipelines sample {@code latent_dist} with {@code generator[k]}).
     *
     * @param image  the image, the size of the generation
     * @param random the generation's generator(s)
     * @param images the number of samples, at least 1
     * @return scaled latents {@code [images, c, h, w]}
     */
    public FloatTensor encode(RgbImage image, RandomSource random, int images) {
        Model encoder = encoder();
        String input = encoder.inputs().keySet().iterator().next();
        Map<String, Tensor> out = encoder.run(Map.of(input, image.toSignedNchw()));
        FloatTensor latents;
        if (out.get("latent_parameters") instanceof FloatTensor params) {
            int[] s = params.shape();
            int c = s[1] / 2;
            int plane = s[2] * s[3];
            int[] shape = {s[0] * images, c, s[2], s[3]};
            FloatTensor noise = random.randn(shape);
            float[] p = params.array();
            float[] n = noise.array();
            float[] z = new float[shape[0] * c * plane];
            for (int k = 0; k < shape[0]; k++) {
                int b = k / images;
                for (int i = 0; i < c * plane; i++) {
                    float mean = p[b * 2 * c * plane + i];
                    float logvar = Math.max(-30f, Math.min(20f, p[b * 2 * c * plane + c * plane + i]));
                    float std = (float) Math.exp(0.5f * logvar);
                    z[k * c * plane + i] = mean + std * n[k * c * plane + i];
                }
            }
            latents = FloatTensor.of(z, shape);
        } else if (out.get("latent_sample") instanceof FloatTensor sample) {
            latents = sample.repeatInterleave(images);
        } else {
            throw new InvalidRequestException(encoder + " outputs " + out.keySet()
                    + "; expected 'latent_parameters' (mean and logvar) or 'latent_sample'");
        }
        return latents.mul((float) folder.vaeScalingFactor());
    }
}
