package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;

/**
 * The exponential-integrator solvers that step in the variance-preserving form of a sigma ({@link AlphaSigma}):
 * DPM-Solver multistep and single-step, DEIS and UniPC. They share diffusers' bookkeeping around {@code step}: the
 * keys they read first ({@code prediction_type}, the noise schedule, {@code solver_order}, dynamic thresholding), the
 * sigmas {@code set_timesteps} installs with the timesteps, the history of converted model outputs it renews, a step
 * index that falls back to the last step for a timestep missing from the schedule, and {@code add_noise} at the
 * indexed sigma. Each subclass reads its other keys, builds its schedule and keeps its {@code step} and updates whole.
 */
abstract class SolverScheduler extends TimestepScheduler {
    /** {@code solver_order}: how many converted model outputs the history keeps. */
    final int solverOrder;
    /** The configured dynamic thresholding of the data prediction, or null. */
    final DynamicThresholding thresholding;
    /** The sigmas the step index points into, ending with the final sigma; set by {@link #setSchedule}. */
    float[] sigmas;
    /** {@code model_outputs} and {@code lower_order_nums}; a fresh one per {@link #setSchedule}. */
    MultistepHistory history;

    /**
     * Reads, in this order, {@code prediction_type}, the noise schedule's keys, {@code solver_order} and the dynamic
     * thresholding keys, as the solvers' {@code __init__} does.
     */
    SolverScheduler(ConfigReader r, ConfigKey<String> predictionKey, NoiseSchedule.Keys scheduleKeys,
            ConfigKey<Integer> solverOrderKey) {
        super(true, r, predictionKey, scheduleKeys);
        solverOrder = r.get(solverOrderKey);
        thresholding = DynamicThresholding.fromConfig(r);
    }

    /**
     * Installs the schedule {@code set_timesteps} built, starts an empty history and forgets the step index.
     *
     * @param timesteps the int64 timesteps, one model call each
     * @param sigmas    their sigmas, followed by the final sigma
     */
    final void setSchedule(long[] timesteps, float[] sigmas) {
        this.timesteps = TimestepSpacing.toFloats(timesteps);
        this.sigmas = sigmas;
        history = new MultistepHistory(solverOrder);
        index.reset();
    }

    @Override
    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
        return Sigmas.addNoiseVp(original, noise, sigmas[index.forAddNoise(timestep, requireTimesteps())]);
    }

    @Override
    public FloatTensor addNoiseInto(FloatTensor original, FloatTensor noise, float timestep, FloatTensor into) {
        Sigmas.addNoiseVp(original, noise, sigmas[index.forAddNoise(timestep, requireTimesteps())], into.array());
        return into;
    }
}
