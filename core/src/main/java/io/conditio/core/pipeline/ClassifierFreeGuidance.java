package io.conditio.core.pipeline;

import io.conditio.api.FloatTensor;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.StepContext;
import java.util.List;

/**
 * Classifier-free guidance as diffusers runs it: batch {@code [uncond, cond]}, one UNet call per timestep, and
 * {@code uncond + g * (cond - uncond)} in float32.
 */
public final class ClassifierFreeGuidance implements Guidance {
    private static final List<GuidanceBranch> BRANCHES =
            List.of(GuidanceBranch.UNCONDITIONAL, GuidanceBranch.CONDITIONAL);

    private final float scale;
    private final double requestedScale;

    /** @param scale the guidance scale, greater than 1 */
    public ClassifierFreeGuidance(double scale) {
        this.requestedScale = scale;
        this.scale = (float) scale;
    }

    @Override
    public List<GuidanceBranch> branches() {
        return BRANCHES;
    }

    @Override
    public FloatTensor expand(FloatTensor latents) {
        return FloatTensor.concatBatch(latents, latents);
    }

    @Override
    public FloatTensor combine(FloatTensor out, StepContext step) {
        int[] shape = out.shape();
        if (shape[0] != 2) {
            throw new IllegalStateException("classifier-free guidance expects a UNet batch of 2, got " + out);
        }
        int n = out.size() / 2;
        float[] o = out.array();
        float[] r = new float[n];
        for (int i = 0; i < n; i++) {
            float uncond = o[i];
            float cond = o[n + i];
            r[i] = uncond + scale * (cond - uncond);
        }
        shape[0] = 1;
        return FloatTensor.of(r, shape);
    }

    @Override
    public String describe() {
        return "cfg(" + requestedScale + ")";
    }
}
