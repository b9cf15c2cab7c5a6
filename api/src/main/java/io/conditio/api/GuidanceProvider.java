package io.conditio.api;

import java.util.List;
import java.util.Optional;
import org.pf4j.ExtensionPoint;

/**
 * Extension point: a guidance strategy, or a change to the guidance below it. A generation's guidance is a chain:
 * <ol>
 *   <li>a <b>base</b>, which defines the UNet batch and how its branches combine: the one provider whose
 *       {@link #create} returns a guidance (instruct-pix2pix's three branches, LCM's embedded guidance), else
 *       {@link ClassifierFreeGuidance}, or {@link SingleBranchGuidance} (no guidance) when the scale is at most 1.
 *       When two providers both return one, the request fails naming both: neither silently wins;</li>
 *   <li>then every <b>modifier</b> whose {@link #wrap} returns a guidance, each wrapping the chain so far (CFG
 *       rescale, a guidance scale annealed over the steps, guidance only in an interval of the steps).</li>
 * </ol>
 * Providers are asked in the order of their {@code @Extension(ordinal)}, then id ({@link Ordinals}): the order of the
 * modifiers is that declared order ({@link Ordinals#GUIDANCE_CORRECTIONS}, {@link Ordinals#GUIDANCE_SCHEDULES}).
 * The provenance records the chain, e.g. {@code cfg(7.5) > cfg-rescale(0.7) > interval(0.2, 0.8)}, and the plugin of
 * every provider that took part. {@link ClassifierFreeGuidance}, {@link SingleBranchGuidance} and
 * {@link GuidanceModifier} are building blocks for providers.
 */
public interface GuidanceProvider extends ExtensionPoint {

    /** @return a stable id, e.g. {@code pix2pix} */
    String id();

    /**
     * The base guidance, when this request asks for this strategy. At most one provider may return one for a
     * request. Since SPI 0.2.0 it has a default, so that a provider that only modifies need not implement it.
     *
     * @param request the request
     * @param unet    the UNet of the model folder, to decide by its inputs (e.g. an 8-channel sample)
     * @return a guidance for this request, or empty (the default) when the request does not ask for this strategy
     */
    default Optional<Guidance> create(GenerationRequest request, Model unet) {
        return Optional.empty();
    }

    /**
     * A modifier of the guidance below it, when this request asks for it. The returned guidance usually extends
     * {@link GuidanceModifier}: it keeps {@code inner}'s branches and post-processes or replaces its
     * {@link Guidance#combine}; its {@link Guidance#describe} describes this modifier alone, e.g.
     * {@code cfg-rescale(0.7)}: the host joins the chain. Since SPI 0.2.0.
     *
     * @param request the request
     * @param unet    the UNet of the model folder
     * @param inner   the chain so far: the base and the modifiers of the providers ordered before this one
     * @return the wrapped guidance, or empty (the default) when the request does not ask for this modifier or it
     *     has nothing to act on (for example no guidance at all)
     */
    default Optional<Guidance> wrap(GenerationRequest request, Model unet, Guidance inner) {
        return Optional.empty();
    }

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
