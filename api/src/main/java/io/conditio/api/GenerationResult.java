package io.conditio.api;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of one generation.
 *
 * @param images     the decoded images (one per request)
 * @param latents    the final latents before the VAE, NCHW float32
 * @param provenance how to regenerate it
 * @param timings    where the time went
 */
public record GenerationResult(List<RgbImage> images, FloatTensor latents, Provenance provenance,
        StepTimings timings) {

    /** Validates and copies. */
    public GenerationResult {
        images = List.copyOf(images);
        Objects.requireNonNull(latents, "latents");
        Objects.requireNonNull(provenance, "provenance");
        Objects.requireNonNull(timings, "timings");
    }

    /** @return the first image */
    public RgbImage image() {
        return images.get(0);
    }
}
