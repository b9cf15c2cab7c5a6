package io.conditio.api;

import java.util.Optional;
import org.pf4j.ExtensionPoint;

/**
 * Extension point: a guidance strategy other than plain classifier-free guidance. The core asks each provider in
 * turn, in the order of their {@code @Extension(ordinal)}, then id ({@link Ordinals}); the first that returns a
 * {@link Guidance} is used, and when none does the core uses {@link ClassifierFreeGuidance} (or
 * {@link SingleBranchGuidance}, no guidance, when the scale is at most 1). Both are building blocks for providers.
 */
public interface GuidanceProvider extends ExtensionPoint {

    /** @return a stable id, e.g. {@code pix2pix} */
    String id();

    /**
     * @param request the request
     * @param unet    the UNet of the model folder, to decide by its inputs (e.g. an 8-channel sample)
     * @return a guidance for this request, or empty when the request does not ask for this strategy
     */
    Optional<Guidance> create(GenerationRequest request, Model unet);
}
