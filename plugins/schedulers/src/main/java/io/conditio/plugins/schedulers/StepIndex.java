package io.conditio.plugins.schedulers;

/**
 * diffusers' {@code _step_index} / {@code _begin_index} pair: the position in {@code timesteps} of the next step.
 * Unset until the first {@code scale_model_input} or {@code step}, which initialise it from {@code begin_index} when
 * the pipeline set one, else by looking the timestep up ({@code index_for_timestep}).
 */
final class StepIndex {
    private final boolean fallbackToLast;
    private int step = -1;
    private int begin = -1;

    /**
     * @param fallbackToLast how a timestep missing from the schedule is looked up (see
     *                       {@link TimestepSpacing#indexFor})
     */
    StepIndex(boolean fallbackToLast) {
        this.fallbackToLast = fallbackToLast;
    }

    /** Forgets both indices ({@code set_timesteps}). */
    void reset() {
        step = -1;
        begin = -1;
    }

    /** {@code set_begin_index}. */
    void setBegin(int beginIndex) {
        if (beginIndex < 0) {
            throw new IllegalArgumentException("begin index must be >= 0, got " + beginIndex);
        }
        begin = beginIndex;
    }

    /** @return whether {@code _step_index} is set */
    boolean isSet() {
        return step >= 0;
    }

    /** @return whether {@code _begin_index} is set */
    boolean hasBegin() {
        return begin >= 0;
    }

    /** @return {@code _begin_index} */
    int begin() {
        return begin;
    }

    /** {@code _init_step_index}: only when unset. */
    void initIfUnset(float timestep, float[] timesteps) {
        if (step < 0) {
            step = begin >= 0 ? begin : TimestepSpacing.indexFor(timestep, timesteps, fallbackToLast);
        }
    }

    /** @return {@code _step_index}; it must be set */
    int get() {
        if (step < 0) {
            throw new IllegalStateException("step index not initialised");
        }
        return step;
    }

    /** Moves to the next timestep. */
    void advance() {
        step++;
    }

    /**
     * The index {@code add_noise} uses: the looked-up timestep when no begin index is set, the current step once
     * stepping has started (inpainting), else the begin index (img2img).
     */
    int forAddNoise(float timestep, float[] timesteps) {
        if (begin < 0) {
            return TimestepSpacing.indexFor(timestep, timesteps, fallbackToLast);
        }
        return step >= 0 ? step : begin;
    }
}
