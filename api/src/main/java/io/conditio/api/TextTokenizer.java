package io.conditio.api;

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
     * @param text any text, never null
     * @return exactly {@link #maxLength()} ids
     */
    long[] encode(String text);

    /** @return the sequence length the text encoder takes (77 for CLIP) */
    int maxLength();

    /** @return the id of the start token */
    int bosId();

    /** @return the id of the end token */
    int eosId();

    /** @return the id used for padding */
    int padId();
}
