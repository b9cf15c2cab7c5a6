package io.conditio.api;

import java.util.Arrays;

/** Shape arithmetic shared by the tensor types. */
final class Tensors {
    private Tensors() {
    }

    static int[] repeatedShape(int[] shape, int repeats) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be at least 1, got " + repeats);
        }
        if (shape.length == 0) {
            throw new IllegalArgumentException("a rank-0 tensor has no batch axis to repeat");
        }
        int[] s = shape.clone();
        long n = (long) s[0] * repeats;
        s[0] = (int) n;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("repeating shape " + Arrays.toString(shape) + " " + repeats
                    + " times overflows");
        }
        volume(s);
        return s;
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
