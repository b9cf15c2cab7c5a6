package io.conditio.api;

/**
 * One scheduler instance for one generation: a port of a diffusers scheduler, with the same state machine.
 * Stateful and not thread-safe; a {@link SchedulerProvider} creates a fresh one for every generation.
 *
 * <p>The loop drives it as diffusers' pipelines do:
 * <pre>{@code
 * scheduler.setTimesteps(steps);
 * latents = random.randn(shape) * scheduler.initNoiseSigma();
 * for (float t : scheduler.timesteps()) {
 *     FloatTensor in = scheduler.scaleModelInput(latents, t);
 *     FloatTensor eps = unet(in, t);
 *     latents = scheduler.step(eps, t, latents, random);
 * }
 * }</pre>
 * Every entry of {@link #timesteps()} is one model call: a second-order scheduler (Heun, KDPM2) lists interior
 * timesteps twice, and PNDM's Runge–Kutta warm-up lists its intermediate points, exactly as diffusers does.
 */
public interface Scheduler {

    /**
     * Prepares the timesteps for a run. Must be called once before anything else.
     *
     * @param numInferenceSteps the number of denoising steps requested by the user, at least 1
     */
    void setTimesteps(int numInferenceSteps);

    /** @return the timesteps to visit, one model call each, in order; a new array each call */
    float[] timesteps();

    /** @return the standard deviation of the initial noise (1 for DDIM-like schedulers, sigma_max-ish for Euler) */
    float initNoiseSigma();

    /** @return diffusers' {@code order}: model calls per user step (2 for Heun and KDPM2, 1 otherwise) */
    int order();

    /**
     * The user step a model call belongs to, for {@link StepContext#schedulerStep()}. Since SPI 0.2.0; the default,
     * {@code call / order()}, fits a scheduler whose steps each make {@link #order()} calls, the last step possibly
     * fewer (Heun's and KDPM2's last step is a single first-order call). A scheduler with another layout (PNDM's
     * Runge-Kutta warm-up, PLMS's doubled first step) overrides it and {@link #subStepOfCall}.
     *
     * @param call an index into {@link #timesteps()}
     * @return the step, from 0; never less than that of the call before
     */
    default int stepOfCall(int call) {
        return call / order();
    }

    /**
     * Which model call of its step a call is, for {@link StepContext#subStep()}. Since SPI 0.2.0; the default is
     * {@code call % order()}.
     *
     * @param call an index into {@link #timesteps()}
     * @return the sub-step, 0 for the first call of a step
     */
    default int subStepOfCall(int call) {
        return call % order();
    }

    /**
     * Starts the run part-way (img2img): the first timestep visited is {@code timesteps()[beginIndex]}.
     *
     * @param beginIndex an index into {@link #timesteps()}
     */
    default void setBeginIndex(int beginIndex) {
    }

    /**
     * Scales the denoising model input, as diffusers' {@code scale_model_input}.
     *
     * @param sample   the current sample (may be a guidance batch)
     * @param timestep the current timestep
     * @return the scaled input (may be {@code sample} itself when the scheduler does not scale)
     */
    FloatTensor scaleModelInput(FloatTensor sample, float timestep);

    /**
     * Advances one timestep, as diffusers' {@code step(...).prev_sample}.
     *
     * @param modelOutput the model's prediction (epsilon, v or sample, per {@code prediction_type})
     * @param timestep    the timestep the prediction was made at
     * @param sample      the current sample; not modified
     * @param random      the generation's generator; schedulers that add noise draw from it in diffusers' order
     * @return the previous (less noisy) sample, a new tensor
     */
    FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random);

    /**
     * {@link #scaleModelInput} for a host that reuses its step buffers. Since SPI 0.3.0; the default returns
     * {@code scaleModelInput(sample, timestep)}, so a scheduler that implements only that keeps working.
     *
     * <p>A scheduler that scales writes the scaled values into {@code into} and returns it; one that does not scale
     * may return {@code sample}. Neither tensor may be kept after the call: the host writes into both again later.
     *
     * @param sample   the current sample (may be a guidance batch)
     * @param timestep the current timestep
     * @param into     a tensor of {@code sample}'s shape to write the result into; may be {@code sample} itself
     * @return the scaled input: {@code into}, {@code sample}, or a new tensor
     */
    default FloatTensor scaleModelInputInto(FloatTensor sample, float timestep, FloatTensor into) {
        return scaleModelInput(sample, timestep);
    }

    /**
     * {@link #step} for a host that reuses its step buffers, so that a step allocates nothing that grows with the
     * latents. Since SPI 0.3.0; the default calls {@code step} on copies of {@code modelOutput} and {@code sample},
     * so a scheduler that implements only {@code step} (and may keep what it is given, as multistep solvers keep
     * their history) keeps working unchanged.
     *
     * <p>An implementation writes the previous sample into {@code into} and returns it. {@code modelOutput},
     * {@code sample} and {@code into} belong to the host, which writes into them again in later steps: copy
     * whatever must outlive the call into the scheduler's own arrays. The arithmetic must be that of {@code step},
     * value for value.
     *
     * @param modelOutput the model's prediction; valid during the call only
     * @param timestep    the timestep the prediction was made at
     * @param sample      the current sample; not modified; valid during the call only
     * @param random      the generation's generator, drawn from exactly as {@code step} draws
     * @param into        a tensor of {@code sample}'s shape, distinct from {@code modelOutput} and {@code sample}
     * @return the previous sample: {@code into}, or a new tensor
     */
    default FloatTensor stepInto(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            FloatTensor into) {
        return step(modelOutput.copy(), timestep, sample.copy(), random);
    }

    /**
     * Noises a clean sample to a timestep, as diffusers' {@code add_noise} (img2img, inpainting).
     *
     * @param original the clean sample
     * @param noise    noise of the same shape
     * @param timestep the timestep to noise to
     * @return a new tensor
     */
    FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep);

    /**
     * {@link #addNoise} for a host that reuses its buffers (inpainting noises the init latents after every step).
     * Since SPI 0.3.0; the default returns {@code addNoise(original, noise, timestep)}.
     *
     * @param original the clean sample
     * @param noise    noise of the same shape
     * @param timestep the timestep to noise to
     * @param into     a tensor of {@code original}'s shape, distinct from both, to write the result into; the host
     *                 writes into it again later, so it may not be kept
     * @return the noised sample: {@code into}, or a new tensor; the same values as {@code addNoise}
     */
    default FloatTensor addNoiseInto(FloatTensor original, FloatTensor noise, float timestep, FloatTensor into) {
        return addNoise(original, noise, timestep);
    }

    /** @return the configuration this instance runs with, after defaults and overrides */
    SchedulerConfig config();
}
