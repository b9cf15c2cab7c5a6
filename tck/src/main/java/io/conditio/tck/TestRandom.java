package io.conditio.tck;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import java.util.Random;

/** A seeded {@link RandomSource} for tests (java.util.Random, not torch-compatible): the same seed, the same draws. */
public final class TestRandom implements RandomSource {
    private final Random random;
    private final long seed;

    /** @param seed the seed */
    public TestRandom(long seed) {
        this.random = new Random(seed);
        this.seed = seed;
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public FloatTensor randn(int... shape) {
        float[] a = new float[count(shape)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return FloatTensor.of(a, shape);
    }

    @Override
    public FloatTensor rand(int... shape) {
        float[] a = new float[count(shape)];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextFloat();
        }
        return FloatTensor.of(a, shape);
    }

    private static int count(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
