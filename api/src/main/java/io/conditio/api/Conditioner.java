package io.conditio.api;

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
}
