package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FloatTensorTest {

    @Test
    void ofWrapsTheArrayWithoutCopying() {
        float[] data = {1, 2, 3, 4};
        FloatTensor t = FloatTensor.of(data, 2, 2);
        data[0] = 9;
        assertThat(t.get(0)).isEqualTo(9f);
        assertThat(t.array()).isSameAs(data);
    }

    @Test
    void aShapeThatDoesNotFitTheDataIsRefusedWithBothSizes() {
        assertThatThrownBy(() -> FloatTensor.of(new float[5], 2, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("5 elements").hasMessageContaining("[2, 2]").hasMessageContaining("4");
    }

    @Test
    void concatBatchStacksEntriesInOrder() {
        FloatTensor a = FloatTensor.of(new float[] {1, 2}, 1, 2);
        FloatTensor b = FloatTensor.of(new float[] {3, 4}, 1, 2);
        FloatTensor c = FloatTensor.concatBatch(a, b);
        assertThat(c.shape()).containsExactly(2, 2);
        assertThat(c.array()).containsExactly(1, 2, 3, 4);
        assertThat(c.batchEntry(1).array()).containsExactly(3, 4);
    }

    @Test
    void concatChannelsInterleavesPerBatchEntry() {
        // two batch entries, 1 channel of 2 pixels each, then 2 extra channels
        FloatTensor latents = FloatTensor.of(new float[] {1, 1, 2, 2}, 2, 1, 1, 2);
        FloatTensor extra = FloatTensor.of(new float[] {5, 5, 6, 6, 7, 7, 8, 8}, 2, 2, 1, 2);
        FloatTensor c = FloatTensor.concatChannels(latents, extra);
        assertThat(c.shape()).containsExactly(2, 3, 1, 2);
        assertThat(c.array()).containsExactly(1, 1, 5, 5, 6, 6, 2, 2, 7, 7, 8, 8);
    }

    @Test
    void concatRefusesMismatchedSpatialSizes() {
        assertThatThrownBy(() -> FloatTensor.concatChannels(FloatTensor.zeros(1, 4, 8, 8), FloatTensor.zeros(1, 1, 4, 4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("axis 1");
    }

    @Test
    void arithmeticRoundsInFloat32() {
        FloatTensor t = FloatTensor.of(new float[] {0.1f}, 1);
        assertThat(t.mul(3f).get(0)).isEqualTo(0.1f * 3f);
        assertThat(t.div(0.18215f).get(0)).isEqualTo(0.1f / 0.18215f);
        assertThat(t.add(t).sub(t).get(0)).isEqualTo(0.1f + 0.1f - 0.1f);
    }

    @Test
    void absMaxIsTheLargestMagnitude() {
        assertThat(FloatTensor.of(new float[] {1, -7, 3}, 3).absMax()).isEqualTo(7f);
    }

    @Test
    void repeatInterleaveRepeatsEachBatchEntryInPlaceAsTorchDoes() {
        FloatTensor t = FloatTensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        FloatTensor r = t.repeatInterleave(3);
        assertThat(r.shape()).containsExactly(6, 2);
        assertThat(r.array()).containsExactly(1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4);
        assertThat(t.repeatInterleave(1)).isSameAs(t);
        LongTensor labels = LongTensor.of(new long[] {4, 3}, 2).repeatInterleave(2);
        assertThat(labels.array()).containsExactly(4, 4, 3, 3);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.repeatInterleave(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1, got 0");
    }
}
