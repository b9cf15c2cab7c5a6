package io.conditio.plugins.text;

import io.conditio.api.InvalidRequestException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The token-embedding tables of the text encoders the {@link EmbeddingPatcher} has grown, so the
 * {@link TextConditioner} gives new tokens the ids of the rows the patcher appended: the embeddings of a request, in
 * order, take the ids from the table's original row count up.
 */
final class TokenTables {
    /**
     * A text encoder's token table.
     *
     * @param initializer its initializer name
     * @param rows        its row count in the model file
     * @param dim         the vector size
     */
    record Table(String initializer, int rows, int dim) {
    }

    /**
     * A new token and the ids it stands for.
     *
     * @param token the word in the prompt
     * @param ids   its ids, one per vector
     */
    record Placeholder(String token, int[] ids) {
    }

    private static final Map<Path, Table> TABLES = new ConcurrentHashMap<>();

    private TokenTables() {
    }

    static void remember(Path model, Table table) {
        TABLES.put(key(model), table);
    }

    private static Path key(Path model) {
        return model.toAbsolutePath().normalize();
    }

    /**
     * @param model      a text encoder file
     * @param component  its component name, for messages
     * @param embeddings the request's embeddings
     * @return the placeholders of the embeddings with vectors for that encoder, in order
     */
    static List<Placeholder> placeholders(Path model, String component, List<Embeddings.Embedding> embeddings) {
        Table table = TABLES.get(key(model));
        if (table == null) {
            throw new InvalidRequestException("the prompt uses textual-inversion embeddings but " + model
                    + " was not patched with them (the text-conditioning plugin's embedding weight patcher did not"
                    + " run for " + component + ")");
        }
        List<Placeholder> out = new ArrayList<>();
        int next = table.rows();
        for (Embeddings.Embedding e : embeddings) {
            int n = e.count(component);
            if (n == 0) {
                continue;
            }
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) {
                ids[i] = next++;
            }
            out.add(new Placeholder(e.token(), ids));
        }
        return out;
    }
}
