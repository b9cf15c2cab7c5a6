package io.conditio.api;

/**
 * What a hook or conditioning sees of the current step. Valid only during the call it is passed to.
 */
public interface StepContext {

    /**
     * @return the index of this model call, from 0 to {@link #totalSteps()} - 1; a second-order scheduler (Heun,
     *     KDPM2) makes two calls for most steps, see {@link #schedulerStep()}
     */
    int stepIndex();

    /**
     * The scheduler step this model call belongs to ({@link Scheduler#stepOfCall}): Heun's two calls of one step,
     * at two different timesteps, have the same scheduler step and sub-steps 0 and 1. Since SPI 0.2.0; the default,
     * for a context that does not say, is {@link #stepIndex()}.
     *
     * @return the scheduler step of this run, from 0 to {@link #schedulerSteps()} - 1
     */
    default int schedulerStep() {
        return stepIndex();
    }

    /**
     * Since SPI 0.2.0; the default is {@link #totalSteps()}.
     *
     * @return the number of scheduler steps in this run (after img2img strength is applied)
     */
    default int schedulerSteps() {
        return totalSteps();
    }

    /**
     * Which model call of its scheduler step this is ({@link Scheduler#subStepOfCall}): 0 for the first (Heun's
     * Euler predictor), 1 for Heun's corrector, 0 to 3 in PNDM's Runge-Kutta warm-up. Since SPI 0.2.0; the
     * default is 0.
     *
     * @return the sub-step, from 0
     */
    default int subStep() {
        return 0;
    }

    /** @return the number of model calls in this run (after img2img strength is applied) */
    int totalSteps();

    /** @return the number of inference steps the user asked for */
    int inferenceSteps();

    /** @return the timestep of this step */
    float timestep();

    /**
     * @return the current latents, batch 1; a read-only view that must not be modified. Valid during the callback:
     *         the host reuses the tensor's memory in later steps (since SPI 0.3.0), so copy it to keep it
     */
    FloatTensor latents();

    /** @return the branches of the UNet batch, in batch order */
    java.util.List<GuidanceBranch> branches();

    /**
     * @return how many images of the prompt the generation makes: the latents' batch, and the number of UNet batch
     *     entries per branch. Since SPI 0.3.0; the default is 1.
     */
    default int imagesPerPrompt() {
        return 1;
    }

    /** @return the request being generated */
    GenerationRequest request();

    /**
     * Asks the loop to stop after this hook returns; the generation then ends with a
     * {@link GenerationCancelledException}.
     */
    void cancel();
}
