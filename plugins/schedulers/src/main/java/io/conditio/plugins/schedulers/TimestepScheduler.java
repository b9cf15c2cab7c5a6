package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;

/**
 * What every port keeps around its {@code step}, in one place: the timesteps {@code set_timesteps} installed, the
 * step index ({@code _step_index} / {@code _begin_index}), the effective config, diffusers' defaults for the rest
 * of the state machine (first order, unit initial noise, an unscaled model input), and {@code step} and
 * {@code stepInto} as one {@link #advance} over new or kept arrays. Each algorithm's file reads its config, builds
 * its schedule and keeps its {@code step} whole in {@link #advance}, as diffusers' scheduler files do.
 */
abstract class TimestepScheduler implements Scheduler {
    /** {@code _step_index} / {@code _begin_index}. */
    final StepIndex index;
    /** The timesteps, one model call each; null until {@code setTimesteps}. */
    float[] timesteps;
    /** The effective config: what was given plus every default the constructor read. */
    SchedulerConfig config;
    /** The arrays of {@link #stepInto}, reused from step to step. */
    private final StepBuffers buffers = StepBuffers.kept();
    /** {@code prediction_type}; null for a port without one (flow matching). */
    final PredictionType predictionType;
    /** The training noise schedule; null for a port without one (flow matching). */
    final NoiseSchedule schedule;

    /**
     * For a port without a prediction type and noise schedule.
     *
     * @param fallbackToLast how the step index looks up a timestep missing from the schedule (see
     *                       {@link TimestepSpacing#indexFor})
     */
    TimestepScheduler(boolean fallbackToLast) {
        index = new StepIndex(fallbackToLast);
        predictionType = null;
        schedule = null;
    }

    /**
     * Reads what every discrete-time port reads first, as diffusers' {@code __init__} does: {@code prediction_type},
     * then the noise schedule's keys.
     *
     * @param fallbackToLast how the step index looks up a timestep missing from the schedule
     * @param r              the port's config reader; it goes on reading the port's other keys
     * @param predictionKey  the port's {@code prediction_type} key
     * @param scheduleKeys   the port's noise schedule keys, with its defaults
     */
    TimestepScheduler(boolean fallbackToLast, ConfigReader r, ConfigKey<String> predictionKey,
            NoiseSchedule.Keys scheduleKeys) {
        index = new StepIndex(fallbackToLast);
        predictionType = PredictionType.of(r.get(predictionKey));
        schedule = NoiseSchedule.read(r, scheduleKeys);
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

    /** {@link #advance} with a new array for every intermediate and for the result, as the ports always made. */
    @Override
    public final FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random) {
        return FloatTensor.of(advance(modelOutput, timestep, sample, random, StepBuffers.fresh()), sample.shape());
    }

    /**
     * {@link #advance} into the host's tensor, with the intermediates (x0, derivatives, the stored sample of a
     * two-call step, the noise) in this scheduler's arrays, reused from step to step.
     */
    @Override
    public final FloatTensor stepInto(FloatTensor modelOutput, float timestep, FloatTensor sample,
            RandomSource random, FloatTensor into) {
        advance(modelOutput, timestep, sample, random, buffers.into(into));
        return into;
    }

    /**
     * The port's {@code step}, in diffusers' float32 arithmetic and order. Every latent-sized array it writes comes
     * from {@code work} ({@link StepBuffers#result}, {@link StepBuffers#scratch}, {@link StepBuffers#randn}), and
     * what it keeps for later steps it copies when {@link StepBuffers#isKept}: the host writes into its tensors again.
     *
     * @param work new arrays for {@code step}, kept ones for {@code stepInto}
     * @return the previous sample, {@code work.result(n)}
     */
    abstract float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers work);

    /**
     * The step index {@code scale_model_input} and {@code step} work at: {@code _init_step_index} on the first call
     * (from the begin index, else by looking {@code timestep} up), then wherever the last {@code step} moved it.
     *
     * @param timestep the timestep the caller passes
     * @return {@code _step_index}
     */
    final int stepIndex(float timestep) {
        index.initIfUnset(timestep, requireTimesteps());
        return index.get();
    }

    /** @return the timesteps; {@code setTimesteps} must have been called */
    final float[] requireTimesteps() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps before using the scheduler");
        }
        return timesteps;
    }
}
