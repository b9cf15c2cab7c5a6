package io.conditio.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * An integer tensor backed by a {@code long[]} in row-major order: token ids, class labels, integer timesteps.
 * The runtime narrows it to int32 when a model declares an int32 input.
 */
public final class LongTensor implements Tensor {
    private final long[] data;
    private final int[] shape;

    private LongTensor(long[] data, int[] shape) {
        this.data = data;
        this.shape = shape;
    }

    /**
     * Wraps an array without copying it.
     *
     * @param data  the elements in row-major order
     * @param shape the dimensions; their product must equal {@code data.length}
     * @return a view on {@code data}
     */
    public static LongTensor of(long[] data, int... shape) {
        Objects.requireNonNull(data, "data");
        int[] s = shape.clone();
        Tensors.checkLength(data.length, s);
        return new LongTensor(data, s);
    }

    /**
     * @param value the value
     * @return a rank-0 tensor
     */
    public static LongTensor scalar(long value) {
        return new LongTensor(new long[] {value}, new int[0]);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public ElementType elementType() {
        return ElementType.INT64;
    }

    /** @return the backing array (not a copy) */
    public long[] array() {
        return data;
    }

    /**
     * @param index a flat row-major index
     * @return the element
     */
    public long get(int index) {
        return data[index];
    }

    /**
     * Repeats every batch entry in place, as {@code torch.repeat_interleave(t, repeats, dim=0)}. Since SPI 0.3.0.
     *
     * @param repeats copies of each entry, at least 1
     * @return this tensor when {@code repeats} is 1, else a new tensor of batch {@code shape[0] × repeats}
     * @throws IllegalArgumentException when {@code repeats} is below 1 or the tensor has rank 0
     */
    public LongTensor repeatInterleave(int repeats) {
        if (repeats == 1) {
            return this;
        }
        int[] s = Tensors.repeatedShape(shape, repeats);
        int per = data.length / Math.max(1, shape[0]);
        long[] out = new long[data.length * repeats];
        for (int b = 0; b < shape[0]; b++) {
            for (int r = 0; r < repeats; r++) {
                System.arraycopy(data, b * per, out, (b * repeats + r) * per, per);
            }
        }
        return new LongTensor(out, s);
    }

    @Override
    public String toString() {
        return "LongTensor" + Arrays.toString(shape);
    }
}
