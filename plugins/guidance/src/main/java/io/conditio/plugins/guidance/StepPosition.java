package io.conditio.plugins.guidance;

import io.conditio.api.StepContext;

/** Where a model call is in the schedule, by its scheduler step: both calls of a Heun step are at one position. */
final class StepPosition {
    private StepPosition() {
    }

    /**
     * @param step the current step
     * @return the fraction of the schedule's steps before this one: 0 at the first step, below 1 at the last
     */
    static double done(StepContext step) {
        return (double) step.schedulerStep() / Math.max(1, step.schedulerSteps());
    }

    /**
     * @param step the current step
     * @return 0 at the first scheduler step, 1 at the last (0 when there is one step)
     */
    static double progress(StepContext step) {
        int steps = step.schedulerSteps();
        return steps <= 1 ? 0 : (double) step.schedulerStep() / (steps - 1);
    }
}
