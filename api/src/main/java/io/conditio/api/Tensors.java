package io.conditio.api;

import java.util.Arrays;

/** Shape arithmetic shared by the tensor types. */
final class Tensors {
    private Tensors() {
    }

    static int volume(int[] shape) {
        long v = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            v *= d;
        }
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31-1 elements");
        }
        return (int) v;
    }

    static void checkLength(int length, int[] shape) {
        int v = volume(shape);
        if (v != length) {
            throw new IllegalArgumentException(
                    "data has " + length + " elements but shape " + Arrays.toString(shape) + " needs " + v);
        }
    }
}
