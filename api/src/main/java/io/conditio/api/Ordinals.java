package io.conditio.api;

/**
 * The {@code @Extension(ordinal = ...)} values of the built-in conditioners, so that a third-party extension can place
 * itself between them. The host hands out the extensions of every extension point sorted by ordinal (lower first),
 * then by id ({@link Conditioner#id()}, {@link GuidanceProvider#id()}; the class name for extension points without
 * one), then by class name: the order does not depend on how the plugins were found. Conditioners contribute to
 * every UNet call in that order, which decides the order of appended sample channels; guidance providers are asked in
 * it, and modifiers wrap the guidance in it ({@link GuidanceProvider}).
 */
public final class Ordinals {
    /** Prompt embeddings ({@code text-conditioning}): first, other conditionings may read what it puts. */
    public static final int TEXT = 10;
    /** Added conditions beside the prompt: SDXL size ids, class labels, embedded guidance ({@code film}). */
    public static final int ADDED_CONDITIONS = 20;
    /** Inpainting's mask and masked-image channels, appended to the sample first. */
    public static final int INPAINT_CHANNELS = 30;
    /** Image-latent channels (instruct-pix2pix), appended after the inpainting channels. */
    public static final int IMAGE_CHANNELS = 31;
    /** Residuals added to the UNet's blocks (ControlNet): last, once every other input is set. */
    public static final int RESIDUALS = 50;

    /** T2I-Adapter features added inside the UNet's down blocks: after the ControlNet residuals. */
    public static final int ADAPTER_FEATURES = 55;
    /** Guidance modifiers that correct the guided prediction (CFG rescale): right over the base guidance. */
    public static final int GUIDANCE_CORRECTIONS = 60;
    /**
     * Guidance modifiers that decide how strongly guidance applies at each step (an annealed scale, an interval of
     * the steps): over the corrections, so that outside their window the prediction is the unguided one.
     */
    public static final int GUIDANCE_SCHEDULES = 70;

    /** Extensions that do not say: PF4J's default ordinal. */
    public static final int DEFAULT = 0;

    private Ordinals() {
    }
}
