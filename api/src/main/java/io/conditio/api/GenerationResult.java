package io.conditio.api;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of one generation.
 *
 * @param images          the decoded images, one per image of the prompt ({@link GenerationRequest#imagesPerPrompt()})
 * @param latents         the final latents before the VAE, NCHW float32, one batch entry per image
 * @param provenance      how to regenerate the first image
 * @param timings         where the time went
 * @param imageProvenance how to regenerate each image alone (its seed, its recipe), in image order; the first is
 *                        {@code provenance}. Since SPI 0.3.0
 */
public record GenerationResult(List<RgbImage> images, FloatTensor latents, Provenance provenance,
        StepTimings timings, List<Provenance> imageProvenance) {

    /** Validates and copies. */
    public GenerationResult {
        images = List.copyOf(images);
        Objects.requireNonNull(latents, "latents");
        Objects.requireNonNull(provenance, "provenance");
        Objects.requireNonNull(timings, "timings");
        imageProvenance = List.copyOf(imageProvenance);
        if (imageProvenance.size() != images.size()) {
            throw new IllegalArgumentException(images.size() + " images but " + imageProvenance.size()
                    + " provenances; expected one per image");
        }
        if (!imageProvenance.isEmpty() && imageProvenance.get(0) != provenance) {
            throw new IllegalArgumentException("the first image's provenance must be the result's provenance");
        }
    }

    /**
     * A result of one image, as before SPI 0.3.0.
     *
     * @param images     the decoded images
     * @param latents    the final latents
     * @param provenance how to regenerate it, for every image
     * @param timings    where the time went
     */
    public GenerationResult(List<RgbImage> images, FloatTensor latents, Provenance provenance, StepTimings timings) {
        this(images, latents, provenance, timings, java.util.Collections.nCopies(images.size(), provenance));
    }

    /** @return the first image */
    public RgbImage image() {
        return images.get(0);
    }

    /**
     * @param index the image, from 0
     * @return how to regenerate that image alone
     */
    public Provenance provenance(int index) {
        return imageProvenance.get(index);
    }
}
