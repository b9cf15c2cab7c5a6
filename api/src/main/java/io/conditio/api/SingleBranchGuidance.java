package io.conditio.api;

import java.util.List;

/**
 * One UNet branch per step and its output used as it is: no guidance (scale at most 1), or guidance the model
 * computes itself (an embedded guidance scale, a condition that travels in the inputs). A building block for plugins.
 */
public final class SingleBranchGuidance implements Guidance {
    private final GuidanceBranch branch;
    private final String description;

    /**
     * @param description the provenance description, e.g. {@code none} or {@code embedded(8.0)}
     */
    public SingleBranchGuidance(String description) {
        this(GuidanceBranch.CONDITIONAL, description);
    }

    /**
     * @param branch      the one branch, e.g. {@link GuidanceBranch#CONDITIONAL}
     * @param description the provenance description
     */
    public SingleBranchGuidance(GuidanceBranch branch, String description) {
        this.branch = java.util.Objects.requireNonNull(branch, "branch");
        this.description = java.util.Objects.requireNonNull(description, "description");
    }

    /** @return the one branch */
    @Override
    public List<GuidanceBranch> branches() {
        return List.of(branch);
    }

    /**
     * @param latents the current latents, batch {@code n}
     * @return {@code latents} itself
     */
    @Override
    public FloatTensor expand(FloatTensor latents) {
        return latents;
    }

    /**
     * @param modelOutput the UNet output, batch {@code n}
     * @param step        the current step (unused)
     * @return {@code modelOutput} itself
     */
    @Override
    public FloatTensor combine(FloatTensor modelOutput, StepContext step) {
        return modelOutput;
    }

    /**
     * @param latents the current latents, batch 1
     * @param into    unused
     * @return {@code latents} itself
     */
    @Override
    public FloatTensor expandInto(FloatTensor latents, FloatTensor into) {
        return latents;
    }

    /**
     * @param modelOutput the UNet output, batch 1
     * @param step        the current step (unused)
     * @param into        unused
     * @return {@code modelOutput} itself
     */
    @Override
    public FloatTensor combineInto(FloatTensor modelOutput, StepContext step, FloatTensor into) {
        return modelOutput;
    }

    /** @return the description given */
    @Override
    public String describe() {
        return description;
    }
}
