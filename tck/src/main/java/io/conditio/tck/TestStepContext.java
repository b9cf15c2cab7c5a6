package io.conditio.tck;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.StepContext;
import java.util.List;

/**
 * A {@link StepContext} for unit tests, in one line:
 * {@code TestStepContext.of(latents).step(3, 20).timestep(500).request(r)}; for a second-order scheduler's
 * corrector call, {@code .step(5, 19).schedulerStep(2, 10, 1)}. Records whether {@link #cancel()} was called.
 */
public final class TestStepContext implements StepContext {
    private final FloatTensor latents;
    private int stepIndex;
    private int totalSteps = 1;
    private int inferenceSteps = 1;
    private int schedulerStep = -1;
    private int schedulerSteps = -1;
    private int subStep;
    private float timestep = 999f;
    private List<GuidanceBranch> branches = List.of(GuidanceBranch.UNCONDITIONAL);
    private GenerationRequest request = GenerationRequest.builder().build();
    private boolean cancelled;

    private TestStepContext(FloatTensor latents) {
        this.latents = latents;
    }

    /**
     * @param latents the current latents, batch 1
     * @return a context at step 0 of 1
     */
    public static TestStepContext of(FloatTensor latents) {
        return new TestStepContext(latents);
    }

    /**
     * @param index the model call index
     * @param total the number of model calls (and inference steps)
     * @return this
     */
    public TestStepContext step(int index, int total) {
        this.stepIndex = index;
        this.totalSteps = total;
        this.inferenceSteps = total;
        return this;
    }

    /**
     * Sets the scheduler step of the call, when it is not the call index (Heun, KDPM2 and PNDM make more than one
     * call per step); without it the scheduler step is the call index and the sub-step 0.
     *
     * @param step    the scheduler step, from 0
     * @param steps   the number of scheduler steps in the run
     * @param subStep which call of that step, from 0
     * @return this
     */
    public TestStepContext schedulerStep(int step, int steps, int subStep) {
        this.schedulerStep = step;
        this.schedulerSteps = steps;
        this.subStep = subStep;
        return this;
    }

    /**
     * @param t the timestep
     * @return this
     */
    public TestStepContext timestep(float t) {
        this.timestep = t;
        return this;
    }

    /**
     * @param b the branches of the batch
     * @return this
     */
    public TestStepContext branches(List<GuidanceBranch> b) {
        this.branches = List.copyOf(b);
        return this;
    }

    /**
     * @param r the request
     * @return this
     */
    public TestStepContext request(GenerationRequest r) {
        this.request = r;
        return this;
    }

    /** @return true when a hook asked to stop */
    public boolean cancelled() {
        return cancelled;
    }

    @Override
    public int stepIndex() {
        return stepIndex;
    }

    @Override
    public int totalSteps() {
        return totalSteps;
    }

    @Override
    public int schedulerStep() {
        return schedulerStep < 0 ? stepIndex : schedulerStep;
    }

    @Override
    public int schedulerSteps() {
        return schedulerSteps < 0 ? totalSteps : schedulerSteps;
    }

    @Override
    public int subStep() {
        return subStep;
    }

    @Override
    public int inferenceSteps() {
        return inferenceSteps;
    }

    @Override
    public float timestep() {
        return timestep;
    }

    @Override
    public FloatTensor latents() {
        return latents;
    }

    @Override
    public List<GuidanceBranch> branches() {
        return branches;
    }

    @Override
    public GenerationRequest request() {
        return request;
    }

    @Override
    public void cancel() {
        cancelled = true;
    }
}
