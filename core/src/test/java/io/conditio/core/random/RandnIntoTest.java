package io.conditio.core.random;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import org.junit.jupiter.api.Test;

/** {@code randnInto} draws what {@code randn} of the same shape draws, and leaves the stream where it would. */
class RandnIntoTest {
    @Test
    void theGeneratorFillsWhatRandnReturnsForShortLongAndUnevenShapes() {
        TorchGenerator plain = new TorchGenerator(7);
        TorchGenerator filling = new TorchGenerator(7);
        for (int[] shape : new int[][] {{1, 4, 8, 8}, {5}, {1, 3, 7, 3}, {2, 4, 4, 4}}) {
            FloatTensor into = FloatTensor.full(Float.NaN, shape);
            assertThat(filling.randnInto(into)).isSameAs(into);
            assertThat(into.array()).containsExactly(plain.randn(shape).array());
        }
    }

    @Test
    void severalImagesFillOneEntryPerImageOrTheFirstImagesDraw() {
        ImageGenerators plain = new ImageGenerators(3, 2);
        ImageGenerators filling = new ImageGenerators(3, 2);
        for (int[] shape : new int[][] {{2, 4, 8, 8}, {1, 4, 8, 8}, {2, 3, 3, 3}}) {
            FloatTensor into = FloatTensor.full(Float.NaN, shape);
            filling.randnInto(into);
            assertThat(into.array()).containsExactly(plain.randn(shape).array());
        }
    }
}
