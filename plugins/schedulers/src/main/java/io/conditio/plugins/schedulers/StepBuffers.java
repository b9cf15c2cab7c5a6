package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import java.util.Arrays;

/**
 * The latent-sized arrays one step works in. {@code step} takes {@link #fresh()}, which hands out a new array for
 * every request, as the ports always did; {@code stepInto} takes the scheduler's {@link #kept()} buffers, which hand
 * out the same array for a slot every step (a new one only when the latent size changes), write the result into the
 * host's tensor and draw noise into a kept tensor. Either way the arithmetic is the same, value for value.
 */
final class StepBuffers {
    private static final StepBuffers FRESH = new StepBuffers(false);

    private final boolean kept;
    private float[][] slots = new float[0][];
    private FloatTensor noise;
    private float[] into;

    private StepBuffers(boolean kept) {
        this.kept = kept;
    }

    /** @return buffers that allocate every array they hand out; stateless, shared */
    static StepBuffers fresh() {
        return FRESH;
    }

    /** @return buffers of one scheduler instance, reused from step to step */
    static StepBuffers kept() {
        return new StepBuffers(true);
    }

    /**
     * Sets where the next {@link #result} goes.
     *
     * @param into the host's tensor
     * @return these buffers
     */
    StepBuffers into(FloatTensor into) {
        this.into = into.array();
        return this;
    }

    /** @return whether the arrays outlive the step (the scheduler must copy what it keeps into a slot) */
    boolean isKept() {
        return kept;
    }

    /**
     * @param n the latent size
     * @return the array the step's result goes into: the host's for kept buffers, else a new one
     */
    float[] result(int n) {
        return kept && into != null && into.length == n ? into : new float[n];
    }

    /**
     * @param slot which scratch array, from 0; different slots are different arrays
     * @param n    its length
     * @return a scratch array of length {@code n}, with whatever it held last
     */
    float[] scratch(int slot, int n) {
        if (!kept) {
            return new float[n];
        }
        if (slot >= slots.length) {
            slots = Arrays.copyOf(slots, slot + 1);
        }
        float[] a = slots[slot];
        if (a == null || a.length != n) {
            a = new float[n];
            slots[slot] = a;
        }
        return a;
    }

    /**
     * {@code randn(shape)} from {@code random}: into a kept tensor for kept buffers, else a new one.
     *
     * @return the drawn values
     */
    float[] randn(RandomSource random, int[] shape) {
        if (!kept) {
            return random.randn(shape).array();
        }
        if (noise == null || !Arrays.equals(noise.shape(), shape)) {
            noise = FloatTensor.zeros(shape);
        }
        return random.randnInto(noise).array();
    }
}
