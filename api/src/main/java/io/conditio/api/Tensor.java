package io.conditio.api;

import java.util.Arrays;

/**
 * A dense, row-major tensor held in a Java array. Tensors are views: {@link FloatTensor#array()} and
 * {@link LongTensor#array()} return the backing array, not a copy, so a scheduler can update a sample in place
 * when it owns it. Shapes are immutable.
 */
public sealed interface Tensor permits FloatTensor, LongTensor {

    /** @return a copy of the shape, never null; an empty array for a scalar */
    int[] shape();

    /** @return the element type */
    ElementType elementType();

    /** @return the number of elements (1 for a scalar) */
    default int size() {
        return Tensors.volume(shape());
    }

    /** @return the number of dimensions */
    default int rank() {
        return shape().length;
    }

    /**
     * @param axis a dimension index
     * @return the size of that dimension
     */
    default int dim(int axis) {
        return shape()[axis];
    }

    /** @return a shape such as {@code [2, 4, 8, 8]} for messages */
    default String shapeString() {
        return Arrays.toString(shape());
    }
}
