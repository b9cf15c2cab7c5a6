package io.conditio.api;

import java.util.List;

/**
 * Classifier-free guidance as diffusers runs it: batch {@code [uncond, cond]}, one UNet call per timestep, and
 * {@code uncond + g * (cond - uncond)} in float32. The core's default when the scale is above 1 and no
 * {@link GuidanceProvider} claims the request; a building block for plugins: extend it and post-process
 * {@link #combine} (as CFG rescale does), or call {@link #guide} and {@link #conditional} from another guidance.
 */
public class ClassifierFreeGuidance implements Guidance {
    private static final List<GuidanceBranch> BRANCHES =
            List.of(GuidanceBranch.UNCONDITIONAL, GuidanceBranch.CONDITIONAL);

    private final float scale;
    private final double requestedScale;
    private final boolean ownExpand;
    private final boolean ownCombine;

    /** @param scale the guidance scale, usually greater than 1 */
    public ClassifierFreeGuidance(double scale) {
        this.requestedScale = scale;
        this.scale = (float) scale;
        this.ownExpand = Overrides.keeps(this, ClassifierFreeGuidance.class, "expand", FloatTensor.class);
        this.ownCombine = Overrides.keeps(this, ClassifierFreeGuidance.class, "combine", FloatTensor.class,
                StepContext.class);
    }

    /** @return the guidance scale as given */
    public double scale() {
        return requestedScale;
    }

    /** @return {@code [uncond, cond]} */
    @Override
    public List<GuidanceBranch> branches() {
        return BRANCHES;
    }

    /**
     * @param latents the current latents, batch {@code n}
     * @return the latents twice along the batch axis, {@code [latents, latents]}
     */
    @Override
    public FloatTensor expand(FloatTensor latents) {
        return FloatTensor.concatBatch(latents, latents);
    }

    /**
     * @param out  the UNet output of the {@code [uncond, cond]} batch
     * @param step the current step (unused)
     * @return {@link #guide}{@code (out, scale)}
     */
    @Override
    public FloatTensor combine(FloatTensor out, StepContext step) {
        return guide(out, scale);
    }

    /**
     * Writes the latents twice into {@code into}; a subclass that overrides {@link #expand} gets its own
     * {@code expand} instead.
     *
     * @param latents the current latents, batch 1
     * @param into    a tensor of batch 2 and the latents' other dimensions
     * @return {@code into}
     */
    @Override
    public FloatTensor expandInto(FloatTensor latents, FloatTensor into) {
        if (!ownExpand || into.size() != 2 * latents.size()) {
            return expand(latents);
        }
        float[] src = latents.array();
        float[] dst = into.array();
        System.arraycopy(src, 0, dst, 0, src.length);
        System.arraycopy(src, 0, dst, src.length, src.length);
        return into;
    }

    /**
     * Writes {@link #guide} into {@code into}; a subclass that overrides {@link #combine} gets its own
     * {@code combine} (on a copy of the output) instead.
     *
     * @param out  the UNet output of the {@code [uncond, cond]} batch
     * @param step the current step (unused here)
     * @param into a tensor of batch 1 and the output's other dimensions
     * @return {@code into}
     */
    @Override
    public FloatTensor combineInto(FloatTensor out, StepContext step, FloatTensor into) {
        if (!ownCombine || into.size() * 2 != out.size()) {
            return Guidance.super.combineInto(out, step, into);
        }
        requireTwoHalves(out);
        int n = into.size();
        float[] o = out.array();
        float[] r = into.array();
        for (int i = 0; i < n; i++) {
            float uncond = o[i];
            float cond = o[n + i];
            r[i] = uncond + scale * (cond - uncond);
        }
        return into;
    }

    /** @return {@code cfg(scale)} */
    @Override
    public String describe() {
        return "cfg(" + requestedScale + ")";
    }

    /**
     * The guided prediction of a {@code [uncond, cond]} batch.
     *
     * @param out   the UNet output, batch {@code 2n}: the {@code n} unconditional entries first
     * @param scale the guidance scale
     * @return {@code uncond + scale * (cond - uncond)} in float32, batch {@code n}
     * @throws IllegalStateException when the batch is odd
     */
    public static FloatTensor guide(FloatTensor out, float scale) {
        requireTwoHalves(out);
        int n = out.size() / 2;
        float[] o = out.array();
        float[] r = new float[n];
        for (int i = 0; i < n; i++) {
            float uncond = o[i];
            float cond = o[n + i];
            r[i] = uncond + scale * (cond - uncond);
        }
        return FloatTensor.of(r, batchOne(out));
    }

    /**
     * The conditional half of a {@code [uncond, cond]} batch.
     *
     * @param out the UNet output, batch {@code 2n}: the {@code n} unconditional entries first
     * @return a copy of the conditional prediction, batch {@code n}
     * @throws IllegalStateException when the batch is odd
     */
    public static FloatTensor conditional(FloatTensor out) {
        requireTwoHalves(out);
        int n = out.size() / 2;
        float[] r = new float[n];
        System.arraycopy(out.array(), n, r, 0, n);
        return FloatTensor.of(r, batchOne(out));
    }

    private static void requireTwoHalves(FloatTensor out) {
        if (out.rank() == 0 || out.dim(0) < 2 || out.dim(0) % 2 != 0) {
            throw new IllegalStateException("classifier-free guidance expects a UNet batch of 2 per image "
                    + "(unconditional entries, then conditional), got " + out);
        }
    }

    private static int[] batchOne(FloatTensor out) {
        int[] shape = out.shape();
        shape[0] /= 2;
        return shape;
    }
}
