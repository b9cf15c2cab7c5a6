package io.conditio.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * A float32 tensor backed by a {@code float[]} in row-major (C) order; image-like tensors are NCHW.
 *
 * <p>Arithmetic helpers are float32, element by element, in the order a reader expects
 * ({@code a + b * s} is evaluated as {@code a + (b * s)} with float rounding at each operation), so code built on
 * them rounds the way the equivalent PyTorch expression does.
 */
public final class FloatTensor implements Tensor {
    private final float[] data;
    private final int[] shape;

    private FloatTensor(float[] data, int[] shape) {
        this.data = data;
        this.shape = shape;
    }

    /**
     * Wraps an array without copying it.
     *
     * @param data  the elements in row-major order; becomes the backing array
     * @param shape the dimensions; their product must equal {@code data.length}
     * @return a view on {@code data}
     */
    public static FloatTensor of(float[] data, int... shape) {
        Objects.requireNonNull(data, "data");
        int[] s = shape.clone();
        Tensors.checkLength(data.length, s);
        return new FloatTensor(data, s);
    }

    /**
     * @param shape the dimensions
     * @return a new tensor of zeros
     */
    public static FloatTensor zeros(int... shape) {
        int[] s = shape.clone();
        return new FloatTensor(new float[Tensors.volume(s)], s);
    }

    /**
     * @param value the value
     * @param shape the dimensions
     * @return a new tensor filled with {@code value}
     */
    public static FloatTensor full(float value, int... shape) {
        FloatTensor t = zeros(shape);
        Arrays.fill(t.data, value);
        return t;
    }

    /**
     * @param value the value
     * @return a rank-0 tensor
     */
    public static FloatTensor scalar(float value) {
        return new FloatTensor(new float[] {value}, new int[0]);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public int size() {
        return data.length;
    }

    @Override
    public int rank() {
        return shape.length;
    }

    @Override
    public int dim(int axis) {
        return shape[axis];
    }

    @Override
    public ElementType elementType() {
        return ElementType.FLOAT32;
    }

    /** @return the backing array (not a copy) */
    public float[] array() {
        return data;
    }

    /**
     * @param index a flat row-major index
     * @return the element
     */
    public float get(int index) {
        return data[index];
    }

    /** @return a deep copy */
    public FloatTensor copy() {
        return new FloatTensor(data.clone(), shape);
    }

    /**
     * @param newShape the new dimensions, with the same element count
     * @return a view on the same array with another shape
     */
    public FloatTensor reshape(int... newShape) {
        return of(data, newShape);
    }

    /**
     * @param other a tensor of the same shape
     * @return true when the shapes are equal
     */
    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape());
    }

    /**
     * @param other a tensor of the same shape
     * @return {@code this + other}, a new tensor
     */
    public FloatTensor add(FloatTensor other) {
        requireSameShape(other);
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = data[i] + other.data[i];
        }
        return new FloatTensor(out, shape);
    }

    /**
     * @param other a tensor of the same shape
     * @return {@code this - other}, a new tensor
     */
    public FloatTensor sub(FloatTensor other) {
        requireSameShape(other);
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = data[i] - other.data[i];
        }
        return new FloatTensor(out, shape);
    }

    /**
     * @param s the factor
     * @return {@code this * s}, a new tensor
     */
    public FloatTensor mul(float s) {
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = data[i] * s;
        }
        return new FloatTensor(out, shape);
    }

    /**
     * @param s the divisor
     * @return {@code this / s}, a new tensor (division, not multiplication by the reciprocal)
     */
    public FloatTensor div(float s) {
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = data[i] / s;
        }
        return new FloatTensor(out, shape);
    }

    /** @return the largest absolute element, 0 for an empty tensor */
    public float absMax() {
        float m = 0;
        for (float v : data) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /**
     * Selects one entry along the first axis.
     *
     * @param index the batch index
     * @return a copy of shape {@code shape[1..]} with a leading 1 kept, e.g. {@code [1, C, H, W]}
     */
    public FloatTensor batchEntry(int index) {
        int n = shape[0];
        Objects.checkIndex(index, n);
        int per = data.length / n;
        int[] s = shape.clone();
        s[0] = 1;
        return new FloatTensor(Arrays.copyOfRange(data, index * per, (index + 1) * per), s);
    }

    /**
     * Repeats every batch entry in place, as {@code torch.repeat_interleave(t, repeats, dim=0)}: {@code [a, b]} with
     * 2 repeats is {@code [a, a, b, b]}. This is how diffusers' pipelines give every image of a prompt its copy of
     * the prompt's embeddings ({@code num_images_per_prompt}). Since SPI 0.3.0.
     *
     * @param repeats copies of each entry, at least 1
     * @return this tensor when {@code repeats} is 1, else a new tensor of batch {@code shape[0] × repeats}
     * @throws IllegalArgumentException when {@code repeats} is below 1 or the tensor has rank 0
     */
    public FloatTensor repeatInterleave(int repeats) {
        if (repeats == 1) {
            return this;
        }
        int[] s = Tensors.repeatedShape(shape, repeats);
        int per = data.length / Math.max(1, shape[0]);
        float[] out = new float[data.length * repeats];
        for (int b = 0; b < shape[0]; b++) {
            for (int r = 0; r < repeats; r++) {
                System.arraycopy(data, b * per, out, (b * repeats + r) * per, per);
            }
        }
        return new FloatTensor(out, s);
    }

    /**
     * Concatenates tensors along the first (batch) axis, as {@code torch.cat(tensors, 0)}.
     *
     * @param parts tensors that agree in every dimension but the first
     * @return a new tensor
     */
    public static FloatTensor concatBatch(FloatTensor... parts) {
        return concat(0, parts);
    }

    /**
     * Concatenates NCHW tensors along the channel axis, as {@code torch.cat(tensors, 1)}.
     *
     * @param parts tensors that agree in every dimension but the second
     * @return a new tensor
     */
    public static FloatTensor concatChannels(FloatTensor... parts) {
        return concat(1, parts);
    }

    /**
     * Concatenates along one axis.
     *
     * @param axis  the axis
     * @param parts tensors of equal rank that agree in every other dimension
     * @return a new tensor
     */
    public static FloatTensor concat(int axis, FloatTensor... parts) {
        if (parts.length == 0) {
            throw new IllegalArgumentException("nothing to concatenate");
        }
        int[] first = parts[0].shape;
        int total = 0;
        for (FloatTensor p : parts) {
            if (p.shape.length != first.length) {
                throw new IllegalArgumentException("cannot concatenate shapes " + Arrays.toString(first)
                        + " and " + Arrays.toString(p.shape) + ": ranks differ");
            }
            for (int d = 0; d < first.length; d++) {
                if (d != axis && p.shape[d] != first[d]) {
                    throw new IllegalArgumentException("cannot concatenate shapes " + Arrays.toString(first)
                            + " and " + Arrays.toString(p.shape) + " along axis " + axis);
                }
            }
            total += p.shape[axis];
        }
        int[] outShape = first.clone();
        outShape[axis] = total;
        int outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= first[d];
        }
        int inner = 1;
        for (int d = axis + 1; d < first.length; d++) {
            inner *= first[d];
        }
        float[] out = new float[Tensors.volume(outShape)];
        int pos = 0;
        for (int o = 0; o < outer; o++) {
            for (FloatTensor p : parts) {
                int block = p.shape[axis] * inner;
                System.arraycopy(p.data, o * block, out, pos, block);
                pos += block;
            }
        }
        return new FloatTensor(out, outShape);
    }

    private void requireSameShape(FloatTensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException(
                    "shape mismatch: " + Arrays.toString(shape) + " vs " + Arrays.toString(other.shape));
        }
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
