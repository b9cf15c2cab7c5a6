package io.conditio.core.random;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import org.junit.jupiter.api.Test;

/** The per-image generators of a batch: each image's entries are what its seed alone draws. */
class ImageGeneratorsTest {

    @Test
    void aBatchDrawTakesEachEntryFromItsImagesSeed() {
        ImageGenerators batch = new ImageGenerators(100, 3);
        FloatTensor drawn = batch.randn(3, 4, 5, 5);
        FloatTensor uniform = batch.rand(3, 7);
        for (int k = 0; k < 3; k++) {
            TorchGenerator alone = new TorchGenerator(100 + k);
            assertThat(drawn.batchEntry(k).array()).containsExactly(alone.randn(1, 4, 5, 5).array());
            assertThat(uniform.batchEntry(k).array()).containsExactly(alone.rand(1, 7).array());
        }
    }

    @Test
    void aSharedDrawKeepsEveryStreamWhereItsImageAloneWouldBe() {
        ImageGenerators batch = new ImageGenerators(7, 2);
        FloatTensor shared = batch.randn(1, 4, 2, 2);
        FloatTensor next = batch.randn(2, 4, 2, 2);
        TorchGenerator first = new TorchGenerator(7);
        TorchGenerator second = new TorchGenerator(8);
        assertThat(shared.array()).containsExactly(first.randn(1, 4, 2, 2).array());
        second.randn(1, 4, 2, 2);
        assertThat(next.batchEntry(0).array()).containsExactly(first.randn(1, 4, 2, 2).array());
        assertThat(next.batchEntry(1).array()).containsExactly(second.randn(1, 4, 2, 2).array());
    }

    @Test
    void oneImageIsTheTorchGeneratorItself() {
        ImageGenerators one = new ImageGenerators(42, 1);
        TorchGenerator torch = new TorchGenerator(42);
        assertThat(one.randn(1, 4, 8, 8).array()).containsExactly(torch.randn(1, 4, 8, 8).array());
        assertThat(one.randn(3).array()).containsExactly(torch.randn(3).array());
        assertThat(one.seed()).isEqualTo(42);
    }
}
