package io.conditio.api;

import java.util.List;
import java.util.Objects;

/**
 * A building block for a guidance modifier ({@link GuidanceProvider#wrap}): it keeps the inner guidance's branches
 * and batch, and its {@link #combine} is the inner one until a subclass changes it, e.g.
 * <pre>{@code
 * public FloatTensor combine(FloatTensor out, StepContext step) {
 *     FloatTensor guided = super.combine(out, step);   // the chain below
 *     FloatTensor unguided = conditional(out);         // the branch that drops nothing
 *     ...
 * }
 * }</pre>
 * {@link #describe()} names this modifier alone; the host joins the chain. Since SPI 0.2.0.
 *
 * <p>The buffer-reusing forms (since SPI 0.3.0) forward to the inner guidance's as long as the subclass leaves the
 * plain method as it is here; a subclass that overrides {@link #combine} gets its own {@code combine} on a copy (the
 * interface's default) unless it overrides {@link #combineInto} too, where {@code inner().combineInto(out, step,
 * into)} is the chain below and {@link #conditionalInto} the unguided prediction.
 */
public abstract class GuidanceModifier implements Guidance {
    private final Guidance inner;
    private final boolean ownExpand;
    private final boolean ownCombine;

    /** @param inner the guidance this one wraps */
    protected GuidanceModifier(Guidance inner) {
        this.inner = Objects.requireNonNull(inner, "inner");
        this.ownExpand = Overrides.keeps(this, GuidanceModifier.class, "expand", FloatTensor.class);
        this.ownCombine = Overrides.keeps(this, GuidanceModifier.class, "combine", FloatTensor.class,
                StepContext.class);
    }

    /** @return the guidance this one wraps */
    public final Guidance inner() {
        return inner;
    }

    /** @return the inner guidance's branches */
    @Override
    public List<GuidanceBranch> branches() {
        return inner.branches();
    }

    /**
     * @param latents the current latents, batch {@code n}
     * @return the inner guidance's batch
     */
    @Override
    public FloatTensor expand(FloatTensor latents) {
        return inner.expand(latents);
    }

    /**
     * @param modelOutput the UNet output, one entry per branch
     * @param step        the current step
     * @return the inner guidance's prediction
     */
    @Override
    public FloatTensor combine(FloatTensor modelOutput, StepContext step) {
        return inner.combine(modelOutput, step);
    }

    /**
     * The inner guidance's batch written into {@code into}; a subclass that overrides {@link #expand} gets its own
     * {@code expand} instead.
     *
     * @param latents the current latents
     * @param into    a tensor of the batch's shape, the host's
     * @return what the inner guidance's {@code expandInto} returns
     */
    @Override
    public FloatTensor expandInto(FloatTensor latents, FloatTensor into) {
        return ownExpand ? inner.expandInto(latents, into) : expand(latents);
    }

    /**
     * The inner guidance's prediction written into {@code into}; a subclass that overrides {@link #combine} but not
     * this gets its own {@code combine} on a copy of the output instead.
     *
     * @param modelOutput the UNet output, one entry per branch; valid during the call only
     * @param step        the current step
     * @param into        a tensor of the prediction's shape, the host's
     * @return what the inner guidance's {@code combineInto} returns
     */
    @Override
    public FloatTensor combineInto(FloatTensor modelOutput, StepContext step, FloatTensor into) {
        return ownCombine ? inner.combineInto(modelOutput, step, into) : Guidance.super.combineInto(modelOutput, step,
                into);
    }

    /**
     * The unguided prediction: the output of the branch that drops no condition ({@link GuidanceBranch#CONDITIONAL}
     * for classifier-free guidance, text and image for instruct-pix2pix).
     *
     * @param modelOutput the UNet output, {@code n} entries per branch of {@link #branches()}
     * @return a copy of that branch's output, batch {@code n}
     * @throws IllegalStateException when no branch keeps every condition, or the batch is not one per branch
     */
    protected FloatTensor conditional(FloatTensor modelOutput) {
        List<GuidanceBranch> b = branches();
        int index = conditionalBranch(b);
        if (index < 0) {
            throw new IllegalStateException("no branch of " + b + " keeps every condition");
        }
        return branch(modelOutput, index, b.size());
    }

    /**
     * {@link #conditional} written into the host's tensor, for {@link #combineInto}.
     *
     * @param modelOutput the UNet output, {@code n} entries per branch of {@link #branches()}
     * @param into        a tensor of the prediction's shape (batch {@code n})
     * @return {@code into} holding that branch's output, or a new tensor when {@code into} is not of its size
     * @throws IllegalStateException when no branch keeps every condition, or the batch is not one per branch
     */
    protected FloatTensor conditionalInto(FloatTensor modelOutput, FloatTensor into) {
        List<GuidanceBranch> b = branches();
        int count = b.size();
        if (into.size() * count != modelOutput.size()) {
            return conditional(modelOutput);
        }
        int index = conditionalBranch(b);
        if (index < 0) {
            throw new IllegalStateException("no branch of " + b + " keeps every condition");
        }
        requireOnePerBranch(modelOutput, count);
        int n = into.size();
        System.arraycopy(modelOutput.array(), index * n, into.array(), 0, n);
        return into;
    }

    /**
     * @param branches the branches of a guidance
     * @return the index of the first branch that drops no condition, or -1 when every branch drops one
     */
    public static int conditionalBranch(List<GuidanceBranch> branches) {
        for (int i = 0; i < branches.size(); i++) {
            if (branches.get(i).dropped().isEmpty()) {
                return i;
            }
        }
        return -1;
    }

    /**
     * @param modelOutput a batch, the same number of entries per branch ({@code n} images), branch major
     * @param index       the branch
     * @param count       the number of branches
     * @return a copy of that branch's entries, batch {@code n}
     * @throws IllegalStateException when the batch is not a multiple of {@code count}
     */
    public static FloatTensor branch(FloatTensor modelOutput, int index, int count) {
        requireOnePerBranch(modelOutput, count);
        int n = modelOutput.size() / count;
        float[] r = new float[n];
        System.arraycopy(modelOutput.array(), index * n, r, 0, n);
        int[] shape = modelOutput.shape();
        shape[0] /= count;
        return FloatTensor.of(r, shape);
    }

    private static void requireOnePerBranch(FloatTensor modelOutput, int count) {
        if (modelOutput.rank() == 0 || modelOutput.dim(0) < count || modelOutput.dim(0) % count != 0) {
            throw new IllegalStateException("expected a UNet batch of " + count + " per image (one per branch), got "
                    + modelOutput);
        }
    }
}
