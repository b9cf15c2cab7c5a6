package io.conditio.api;

import java.util.Arrays;

/** A text tokenizer for a text encoder (CLIP BPE for Stable Diffusion models). Thread-safe. */
public interface TextTokenizer {

    /**
     * Tokenizes without special tokens, padding or truncation.
     *
     * @param text any text, never null
     * @return the BPE ids of the text alone
     */
    int[] tokenize(String text);

    /**
     * Encodes as the text encoder expects: start token, ids, end token, padded with {@link #padId()} to
     * {@link #maxLength()} and truncated so the end token is kept.
     *
     * <p>Since SPI 0.3.0 it has a default, built on {@link #tokenize}, {@link #maxLength()}, {@link #bosId()},
     * {@link #eosId()} and {@link #padId()}: {@code [bos, ids[0 .. min(n, maxLength - 2)), eos, pad...]}, so that a
     * tokenizer (one that adds tokens to another, say) need not implement it.
     *
     * @param text any text, never null
     * @return exactly {@link #maxLength()} ids
     */
    default long[] encode(String text) {
        int[] ids = tokenize(text);
        long[] out = new long[maxLength()];
        Arrays.fill(out, padId());
        out[0] = bosId();
        int body = Math.min(ids.length, out.length - 2);
        for (int i = 0; i < body; i++) {
            out[i + 1] = ids[i];
        }
        out[body + 1] = eosId();
        return out;
    }

    /** @return the sequence length the text encoder takes (77 for CLIP) */
    int maxLength();

    /** @return the id of the start token */
    int bosId();

    /** @return the id of the end token */
    int eosId();

    /** @return the id used for padding */
    int padId();
}
