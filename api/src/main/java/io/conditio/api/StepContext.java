package io.conditio.api;

/**
 * What a hook or conditioning sees of the current step. Valid only during the call it is passed to.
 */
public interface StepContext {

    /** @return the index of this model call, from 0 to {@link #totalSteps()} - 1 */
    int stepIndex();

    /** @return the number of model calls in this run (after img2img strength is applied) */
    int totalSteps();

    /** @return the number of inference steps the user asked for */
    int inferenceSteps();

    /** @return the timestep of this step */
    float timestep();

    /** @return the current latents, batch 1; a read-only view that must not be modified */
    FloatTensor latents();

    /** @return the branches of the UNet batch, in batch order */
    java.util.List<GuidanceBranch> branches();

    /** @return the request being generated */
    GenerationRequest request();

    /**
     * Asks the loop to stop after this hook returns; the generation then ends with a
     * {@link GenerationCancelledException}.
     */
    void cancel();
}
