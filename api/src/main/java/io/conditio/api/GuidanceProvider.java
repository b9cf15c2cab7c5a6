package io.conditio.api;

import java.util.List;
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

    /**
     * The request parameters this extension reads from {@link GenerationRequest#parameters()}. The host validates
     * every request against the declarations of all loaded plugins before anything runs, and lists them
     * ({@code conditio plugins --parameters}). Since SPI 0.2.0; a plugin that requires 0.2.0 or later and does not
     * override this declares that it reads no parameters.
     *
     * @return the declarations; empty by default
     */
    default List<ParameterDeclaration> parameters() {
        return List.of();
    }
}
