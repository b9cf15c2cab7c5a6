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

    @Override
    public String toString() {
        return "LongTensor" + Arrays.toString(shape);
    }
}
