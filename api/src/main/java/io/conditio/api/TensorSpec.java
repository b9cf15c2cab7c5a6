package io.conditio.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a model declares for one input or output.
 *
 * @param name        the input or output name, e.g. {@code encoder_hidden_states}
 * @param elementType the element type
 * @param shape       the dimensions, {@code -1} where the model leaves a dimension dynamic; empty for a scalar
 */
public record TensorSpec(String name, ElementType elementType, long[] shape) {

    /** Validates and copies the shape. */
    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(elementType, "elementType");
        shape = shape.clone();
    }

    /** @return a copy of the declared shape */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** @return the rank */
    public int rank() {
        return shape.length;
    }

    /**
     * @param axis a dimension index
     * @return the declared size of that dimension, or -1 when dynamic
     */
    public long dim(int axis) {
        return shape[axis];
    }

    /**
     * @param actual a concrete shape
     * @return true when ranks agree and every fixed dimension matches
     */
    public boolean accepts(int[] actual) {
        if (actual.length != shape.length) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] >= 0 && shape[i] != actual[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && t.name.equals(name) && t.elementType == elementType
                && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, elementType, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(name).append(' ').append(elementType.name().toLowerCase()).append(" [");
        for (int i = 0; i < shape.length; i++) {
            b.append(i == 0 ? "" : ", ").append(shape[i] < 0 ? "?" : Long.toString(shape[i]));
        }
        return b.append(']').toString();
    }
}
