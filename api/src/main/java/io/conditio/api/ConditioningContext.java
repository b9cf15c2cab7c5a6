package io.conditio.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a {@link Conditioner} may use while preparing a generation. Valid only during
 * {@link Conditioner#prepare}; models it hands out stay valid for the whole generation.
 */
public interface ConditioningContext {

    /** @return the request */
    GenerationRequest request();

    /** @return the UNet of the model folder */
    Model unet();

    /**
     * @param component a model folder component, e.g. {@code text_encoder}, {@code text_encoder_2},
     *                  {@code vae_encoder}
     * @return the model, or empty when the folder has no such component
     */
    Optional<Model> component(String component);

    /**
     * Loads (or returns the already loaded) ONNX model at a path outside the model folder, such as a ControlNet.
     * The pipeline owns and caches it.
     *
     * @param modelFile an {@code .onnx} file, or a folder holding {@code model.onnx}
     * @return the model
     * @throws ModelLoadException naming the path when it cannot be loaded
     */
    Model loadModel(Path modelFile);

    /**
     * @return the model folder's {@code model_index.json} as parsed JSON (pipeline class, components, and pipeline
     *         options such as SDXL's {@code force_zeros_for_empty_prompt}); empty when the folder has none
     */
    default Map<String, Object> modelIndex() {
        return Map.of();
    }

    /**
     * @return the host's reader of weight files ({@code .safetensors}), for files a conditioner reads itself, such as
     *     textual-inversion embeddings. Since SPI 0.3.0; the default refuses every file.
     */
    default TensorFiles tensorFiles() {
        return TensorFiles.none();
    }

    /**
     * @param name {@code tokenizer} or {@code tokenizer_2}
     * @return the tokenizer from the model folder, or empty when absent
     */
    Optional<TextTokenizer> tokenizer(String name);

    /**
     * Encodes an image with the VAE encoder into scaled latents, as diffusers' pipelines do
     * ({@code latent_dist.sample(generator) * scaling_factor}); draws from the generation's generator when the
     * encoder outputs distribution parameters.
     *
     * <p>With several images per prompt ({@link #imagesPerPrompt()}), since SPI 0.3.0, the result holds one sample
     * per image, each drawn from that image's generator, so that every image of the batch is the one it would be
     * alone.
     *
     * @param image the image, the size of the generation
     * @return latents of shape {@code [imagesPerPrompt, C, H/f, W/f]}
     * @throws InvalidRequestException when the model folder has no VAE encoder
     */
    FloatTensor encodeImage(RgbImage image);

    /**
     * Encodes an image with the VAE encoder and returns the mode (mean) of the latent distribution, unscaled, as
     * diffusers' instruct-pix2pix pipeline uses it ({@code latent_dist.mode()}); draws nothing.
     *
     * @param image the image, the size of the generation
     * @return latents of shape {@code [1, C, H/f, W/f]}
     * @throws InvalidRequestException when the model folder has no VAE encoder, or one that outputs only a sample
     */
    FloatTensor encodeImageMode(RgbImage image);

    /**
     * @return the generation's generator. With several images per prompt a draw whose first dimension is the
     *     number of images takes entry {@code k} from image {@code k}'s generator; any other draw is made from every
     *     image's generator (each stays where it would be for its image alone) and returns the first image's values
     */
    RandomSource random();

    /**
     * @return how many images of the prompt this generation makes ({@link GenerationRequest#imagesPerPrompt()}).
     *     Since SPI 0.3.0; the default is 1.
     */
    default int imagesPerPrompt() {
        return 1;
    }

    /** @return the branches of the UNet batch, in batch order */
    List<GuidanceBranch> branches();

    /** @return the latent shape of one image, {@code [1, C, H/f, W/f]} */
    int[] latentShape();

    /** @return the output width in pixels */
    int width();

    /** @return the output height in pixels */
    int height();

    /**
     * Runs a control-image preprocessor by name ({@code none} returns the image unchanged).
     *
     * @param name   the preprocessor's {@link ControlPreprocessor#name()}, case-insensitive
     * @param image  the image, samples in [0, 1]
     * @param models the model files the user gave for it (may be empty)
     * @return the control image
     * @throws InvalidRequestException naming the loaded preprocessors when there is none of that name
     */
    default RgbImage preprocess(String name, RgbImage image, List<java.nio.file.Path> models) {
        if ("none".equalsIgnoreCase(name)) {
            return image;
        }
        throw new InvalidRequestException("control preprocessor '" + name + "' is not available in this host");
    }
}
