package io.conditio.plugins.text;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class EmbeddingTokenizerTest {
    /** One id per whitespace-separated word: its length (so the tests can tell words apart without a vocabulary). */
    private static final TextTokenizer WORDS = new TextTokenizer() {
        @Override
        public int[] tokenize(String text) {
            return Arrays.stream(text.trim().split("\\s+")).filter(w -> !w.isEmpty()).mapToInt(String::length)
                    .toArray();
        }

        @Override
        public long[] encode(String text) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int maxLength() {
            return 8;
        }

        @Override
        public int bosId() {
            return 100;
        }

        @Override
        public int eosId() {
            return 101;
        }

        @Override
        public int padId() {
            return 102;
        }
    };

    private static EmbeddingTokenizer tokenizer() {
        return new EmbeddingTokenizer(WORDS, List.of(new TokenTables.Placeholder("sun", new int[] {655, 656}),
                new TokenTables.Placeholder("<cat-toy>", new int[] {657}),
                new TokenTables.Placeholder("sunset", new int[] {658})));
    }

    @Test
    void aTokenBecomesTheIdsOfItsVectorsAndTheRestGoesThroughTheTokenizer() {
        assertThat(tokenizer().tokenize("a sun at the top")).containsExactly(1, 655, 656, 2, 3, 3);
        assertThat(tokenizer().tokenize("sun")).containsExactly(655, 656);
        assertThat(tokenizer().tokenize("sun,sun")).containsExactly(655, 656, 1, 655, 656);
    }

    @Test
    void wordBoundariesApplyToTokensThatStartOrEndWithALetter() {
        assertThat(tokenizer().tokenize("sunny suns")).containsExactly(5, 4);
        assertThat(tokenizer().tokenize("a <cat-toy>s")).containsExactly(1, 657, 1);
        assertThat(tokenizer().tokenize("a sunset")).as("the longer token wins").containsExactly(1, 658);
    }

    @Test
    void encodeFramesPadsAndTruncatesLikeTheModelsTokenizer() {
        assertThat(tokenizer().encode("a sun")).containsExactly(100, 1, 655, 656, 101, 102, 102, 102);
        assertThat(tokenizer().encode("sun sun sun sun")).containsExactly(100, 655, 656, 655, 656, 655, 656, 101);
    }

    @Test
    void specsSplitTheTokenOffTheLastColonUnlessItIsPartOfThePath() {
        assertThat(Embeddings.parseSpec("style.safetensors:mystyle"))
                .isEqualTo(new Embeddings.Spec(Path.of("style.safetensors"), "mystyle"));
        assertThat(Embeddings.parseSpec("/models/learned_embeds.safetensors"))
                .isEqualTo(new Embeddings.Spec(Path.of("/models/learned_embeds.safetensors"), null));
        assertThat(Embeddings.parseSpec("C:\\emb\\x.safetensors").token()).isNull();
        assertThat(Embeddings.parseSpec("C:\\emb\\x.safetensors:<x>").token()).isEqualTo("<x>");
        assertThat(Embeddings.parseSpec("dir:with/colon.safetensors").token()).isNull();
    }
}
