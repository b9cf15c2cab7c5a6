package io.conditio.api;

import java.util.List;
import java.util.Optional;
import org.pf4j.ExtensionPoint;

/**
 * Extension point: one conditioning method (text cross-attention, class labels, channel concatenation,
 * ControlNet). Stateless and shared; per-generation state lives in the {@link Conditioning} it prepares.
 *
 * <p>Lifecycle for each generation: {@link #prepare} once, before the loop; then
 * {@link Conditioning#contribute} for every UNet call; then {@link Conditioning#close}. Conditioners are asked in
 * the order of their {@code @Extension(ordinal)}, then id (see {@link Ordinals} for the built-in ordinals).
 */
public interface Conditioner extends ExtensionPoint {

    /** @return a stable id, e.g. {@code text}; used as the provenance prefix and in error messages */
    String id();

    /**
     * Prepares this conditioning for a generation.
     *
     * @param context the generation's models, tokenizers, generator and request; never null
     * @return the conditioning, or empty when the request does not use this conditioner
     * @throws InvalidRequestException when the request asks for this conditioning but cannot be satisfied
     */
    Optional<Conditioning> prepare(ConditioningContext context);

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

    /**
     * Which UNet export this conditioner needs for a request, asked before the UNet is chosen and loaded (so before
     * {@link #prepare}); see {@link UnetVariantNeed} for how the core uses the answer.
     *
     * @param request the request
     * @return the UNet variant folder and the inputs this conditioner supplies, or empty (the default) when the
     *         request does not use this conditioner or any UNet will do
     */
    default Optional<UnetVariantNeed> unetVariant(GenerationRequest request) {
        return Optional.empty();
    }
}
