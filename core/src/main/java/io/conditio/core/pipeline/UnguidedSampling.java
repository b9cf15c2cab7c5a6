package io.conditio.core.pipeline;

import io.conditio.api.FloatTensor;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.StepContext;
import java.util.List;

/** No guidance (scale at most 1): one conditional branch, the UNet output used as is. */
public final class UnguidedSampling implements Guidance {
    @Override
    public List<GuidanceBranch> branches() {
        return List.of(GuidanceBranch.CONDITIONAL);
    }

    @Override
    public FloatTensor expand(FloatTensor latents) {
        return latents;
    }

    @Override
    public FloatTensor combine(FloatTensor modelOutput, StepContext step) {
        return modelOutput;
    }

    @Override
    public String describe() {
        return "none";
    }
}
