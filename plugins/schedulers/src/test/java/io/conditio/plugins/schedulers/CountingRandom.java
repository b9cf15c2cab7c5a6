package io.conditio.plugins.schedulers;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import java.util.ArrayList;
import java.util.List;

/** A small {@link RandomSource} that records each draw's shape and returns a fixed, non-zero pattern. */
final class CountingRandom implements RandomSource {
    final List<int[]> randnShapes = new ArrayList<>();
    int randCalls;

    @Override
    public FloatTensor randn(int... shape) {
        randnShapes.add(shape.clone());
        FloatTensor t = FloatTensor.zeros(shape);
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 7 - 3) / 3f;
        }
        return t;
    }

    @Override
    public FloatTensor rand(int... shape) {
        randCalls++;
        return FloatTensor.full(0.5f, shape);
    }

    /** Asserts {@code times} draws from {@code randn}, each of the harness sample's shape (4, 3, 8, 8). */
    void assertDrewSampleShapedNoise(int times) {
        assertThat(randnShapes).hasSize(times).allSatisfy(shape -> assertThat(shape).containsExactly(4, 3, 8, 8));
    }

    @Override
    public long seed() {
        return 42;
    }
}
