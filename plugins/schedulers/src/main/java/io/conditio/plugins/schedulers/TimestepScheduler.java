package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;

/**
 * What every port keeps around its {@code step}, in one place: the timesteps {@code set_timesteps} installed, the
 * step index ({@code _step_index} / {@code _begin_index}), the effective config, and diffusers' defaults for the rest
 * of the state machine (first order, unit initial noise, an unscaled model input). Each algorithm's file reads its
 * config, builds its schedule and keeps its {@code step} whole, as diffusers' scheduler files do.
 */
abstract class TimestepScheduler implements Scheduler {
    /** {@code _step_index} / {@code _begin_index}. */
    final StepIndex index;
    /** The timesteps, one model call each; null until {@code setTimesteps}. */
    float[] timesteps;
    /** The effective config: what was given plus every default the constructor read. */
    SchedulerConfig config;

    /**
     * @param fallbackToLast how the step index looks up a timestep missing from the schedule (see
     *                       {@link TimestepSpacing#indexFor})
     */
    TimestepScheduler(boolean fallbackToLast) {
        index = new StepIndex(fallbackToLast);
    }

    @Override
    public float[] timesteps() {
        return requireTimesteps().clone();
    }

    @Override
    public float initNoiseSigma() {
        return 1f;
    }

    @Override
    public int order() {
        return 1;
    }

    @Override
    public void setBeginIndex(int beginIndex) {
        index.setBegin(beginIndex);
    }

    @Override
    public FloatTensor scaleModelInput(FloatTensor sample, float timestep) {
        return sample;
    }

    @Override
    public SchedulerConfig config() {
        return config;
    }

    /** @return the timesteps; {@code setTimesteps} must have been called */
    final float[] requireTimesteps() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps before using the scheduler");
        }
        return timesteps;
    }
}
