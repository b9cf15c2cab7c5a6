package io.conditio.plugins.schedulers;

/**
 * The multistep solvers' memory, diffusers' {@code model_outputs} and {@code lower_order_nums} (DPM-Solver multistep
 * and single-step, DEIS, UniPC): the last {@code solver_order} converted model outputs, and how many steps have
 * filled them, which caps the order while the history warms up. A fresh one per {@code set_timesteps}.
 */
final class MultistepHistory {
    private final float[][] outputs;
    /** The array the next output may be written into: none of the kept outputs, and reused once dropped. */
    private float[] spare;
    private int lowerOrderNums;

    /** @param solverOrder how many outputs are kept */
    MultistepHistory(int solverOrder) {
        outputs = new float[solverOrder][];
    }

    /**
     * An array for the next output to be written into before it is {@link #push}ed, while every kept output can
     * still be read: with {@code stepInto} the history is a ring of {@code solver_order + 1} arrays.
     *
     * @param n the latent size
     * @return an array of length {@code n} that is not in the history
     */
    float[] spare(int n) {
        if (spare == null || spare.length != n) {
            spare = new float[n];
        }
        return spare;
    }

    /** Appends the newest converted output, dropping the oldest (which becomes the spare if this was the spare). */
    void push(float[] converted) {
        float[] dropped = outputs[0];
        System.arraycopy(outputs, 1, outputs, 0, outputs.length - 1);
        outputs[outputs.length - 1] = converted;
        if (converted == spare) {
            spare = dropped;
        }
    }

    /**
     * @param back 0 for the newest output, 1 for the one before, ...
     * @return that output's values
     */
    float[] back(int back) {
        return outputs[outputs.length - 1 - back];
    }

    /** @return whether the output {@code back} steps ago is there (a run started mid-schedule has fewer) */
    boolean has(int back) {
        return outputs[outputs.length - 1 - back] != null;
    }

    /** @return {@code lower_order_nums}: the steps taken so far, at most {@code solver_order} */
    int lowerOrderNums() {
        return lowerOrderNums;
    }

    /** Counts a step taken ({@code lower_order_nums += 1} while below {@code solver_order}). */
    void stepTaken() {
        if (lowerOrderNums < outputs.length) {
            lowerOrderNums++;
        }
    }

    /**
     * The order DPM-Solver multistep and DEIS use for the next update: first order while the history is empty or on
     * a lower-order final step, second order while it holds two outputs or on a lower-order second-to-last step,
     * else third.
     *
     * @param lowerOrderFinalStep whether this is a last step taken at first order
     * @param lowerOrderSecond    whether this is a second-to-last step taken at second order at most
     * @return 1, 2 or 3
     */
    int nextOrder(boolean lowerOrderFinalStep, boolean lowerOrderSecond) {
        int solverOrder = outputs.length;
        if (solverOrder == 1 || lowerOrderNums < 1 || lowerOrderFinalStep) {
            return 1;
        }
        if (solverOrder == 2 || lowerOrderNums < 2 || lowerOrderSecond) {
            return 2;
        }
        return 3;
    }
}
