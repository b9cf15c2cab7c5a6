package io.conditio.plugins.text;

import io.conditio.api.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tokenizer with textual-inversion tokens added: each occurrence of a token (see {@link Embeddings#word}) becomes
 * the ids of its vectors, and the text between is tokenized by the model's tokenizer, as a Hugging Face tokenizer
 * splits added tokens out before BPE. Longer tokens are matched first.
 */
final class EmbeddingTokenizer implements TextTokenizer {
    private final TextTokenizer base;
    private final Pattern tokens;
    private final List<TokenTables.Placeholder> placeholders;

    EmbeddingTokenizer(TextTokenizer base, List<TokenTables.Placeholder> placeholders) {
        this.base = base;
        this.placeholders = placeholders.stream()
                .sorted(Comparator.comparingInt((TokenTables.Placeholder p) -> -p.token().length())).toList();
        StringBuilder re = new StringBuilder();
        for (TokenTables.Placeholder p : this.placeholders) {
            re.append(re.length() == 0 ? "" : "|").append('(').append(Embeddings.word(p.token()).pattern())
                    .append(')');
        }
        this.tokens = Pattern.compile(re.toString());
    }

    @Override
    public int[] tokenize(String text) {
        if (placeholders.isEmpty()) {
            return base.tokenize(text);
        }
        List<int[]> parts = new ArrayList<>();
        Matcher m = tokens.matcher(text);
        int at = 0;
        while (m.find()) {
            if (m.start() > at) {
                parts.add(base.tokenize(text.substring(at, m.start())));
            }
            for (int g = 1; g <= m.groupCount(); g++) {
                if (m.group(g) != null) {
                    parts.add(placeholders.get(g - 1).ids());
                    break;
                }
            }
            at = m.end();
        }
        if (at < text.length()) {
            parts.add(base.tokenize(text.substring(at)));
        }
        return parts.stream().flatMapToInt(Arrays::stream).toArray();
    }

    @Override
    public int maxLength() {
        return base.maxLength();
    }

    @Override
    public int bosId() {
        return base.bosId();
    }

    @Override
    public int eosId() {
        return base.eosId();
    }

    @Override
    public int padId() {
        return base.padId();
    }
}
