package io.conditio.plugins.text;

import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.ModelGraph;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.WeightPatch;
import io.conditio.api.WeightPatchContext;
import io.conditio.api.WeightPatcher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * Textual inversion through the weight-patch hook: the token-embedding table of {@code text_encoder} (and
 * {@code text_encoder_2}) grows by the request's embedding vectors (see {@link Embeddings}), as diffusers'
 * {@code load_textual_inversion} resizes the encoder's token embeddings and writes the new rows. The
 * {@link TextConditioner} then tokenizes each embedding's token as the ids of those rows.
 *
 * <p>The table is the float initializer a {@code Gather} reads on axis 0 with the token ids: the one whose node or
 * initializer name says {@code token_embedding}, else the one indexed by {@code input_ids} directly.
 */
@Extension(ordinal = 40)
public final class EmbeddingPatcher implements WeightPatcher {

    @Override
    public String id() {
        return "embeddings";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(ParameterDeclaration.builder(Embeddings.PARAMETER, ParameterType.STRING).listOrSingle()
                .description("textual-inversion embedding files as FILE[:TOKEN] (several in one text separated by"
                        + " ;), their tokens added to the tokenizer and text encoder (--embedding); files in the"
                        + " model folder's embeddings/ are used when the prompt names them").build());
    }

    @Override
    public Optional<WeightPatch> patch(WeightPatchContext context) {
        String component = context.component();
        if (!component.equals("text_encoder") && !component.equals("text_encoder_2")) {
            return Optional.empty();
        }
        List<Embeddings.Embedding> embeddings = Embeddings.of(context.request(), context.modelFolder(),
                context.tensorFiles());
        if (embeddings.isEmpty()) {
            return Optional.empty();
        }
        Path model = context.modelFolder().resolve(component).resolve("model.onnx");
        ModelGraph graph = context.graph();
        TokenTables.Table table = table(graph, model);
        StringBuilder key = new StringBuilder("embeddings");
        List<String> report = new ArrayList<>();
        int added = 0;
        for (Embeddings.Embedding e : embeddings) {
            FloatTensor v = e.vectors().get(component);
            if (v == null) {
                throw new InvalidRequestException("embedding " + e.file() + " has no vectors for " + component
                        + " (it gives " + e.vectors().keySet() + "; SDXL embeddings give clip_l for text_encoder and"
                        + " clip_g for text_encoder_2)");
            }
            if (v.dim(1) != table.dim()) {
                throw new InvalidRequestException("embedding " + e.file() + " has vectors of size " + v.dim(1)
                        + " but " + component + "'s token table " + table.initializer() + " has " + table.dim()
                        + " (an embedding for another model family?)");
            }
            key.append('[').append(e.token()).append('=').append(e.file().getFileName()).append('#')
                    .append(e.sha256(), 0, 16).append(']');
            report.add(component + ": token '" + e.token() + "' = ids " + (table.rows() + added)
                    + (v.dim(0) > 1 ? ".." + (table.rows() + added + v.dim(0) - 1) : "") + " (" + v.dim(0)
                    + " vector" + (v.dim(0) > 1 ? "s" : "") + ", " + e.file().getFileName() + ")");
            added += v.dim(0);
        }
        FloatTensor old = graph.floatValue(table.initializer()).orElseThrow(() -> new InvalidRequestException(
                "could not read the token table " + table.initializer() + " of " + model));
        float[] grown = new float[(table.rows() + added) * table.dim()];
        System.arraycopy(old.array(), 0, grown, 0, old.array().length);
        int at = old.array().length;
        for (Embeddings.Embedding e : embeddings) {
            float[] v = e.vectors().get(component).array();
            System.arraycopy(v, 0, grown, at, v.length);
            at += v.length;
        }
        TokenTables.remember(model, table);
        return Optional.of(new WeightPatch(key.toString(), Map.of(table.initializer(),
                FloatTensor.of(grown, table.rows() + added, table.dim())), Set.of(table.initializer()), report));
    }

    /** Finds the token-embedding table of a text encoder graph. */
    static TokenTables.Table table(ModelGraph graph, Path model) {
        List<ModelGraph.Initializer> named = new ArrayList<>();
        List<ModelGraph.Initializer> byIds = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (ModelGraph.Node n : graph.nodes()) {
            if (!n.opType().equals("Gather") || n.inputs().size() < 2 || n.attributes().getOrDefault("axis", 0L) != 0) {
                continue;
            }
            ModelGraph.Initializer init = graph.initializers().get(n.inputs().get(0));
            if (init == null || init.type() != ElementType.FLOAT32 || init.shape().length != 2) {
                continue;
            }
            seen.add(init.name());
            String names = (n.name() + " " + init.name()).toLowerCase(Locale.ROOT);
            if (names.contains("token_embedding")) {
                named.add(init);
            } else if (n.inputs().get(1).equals("input_ids")) {
                byIds.add(init);
            }
        }
        List<ModelGraph.Initializer> found = !named.isEmpty() ? named : byIds;
        if (found.size() != 1) {
            throw new InvalidRequestException("cannot tell the token-embedding table of " + model + ": "
                    + (found.isEmpty() ? "no" : found.size()) + " Gather-read float tables named token_embedding or"
                    + " indexed by input_ids (tables read by Gather: " + seen + ")");
        }
        ModelGraph.Initializer t = found.get(0);
        return new TokenTables.Table(t.name(), Math.toIntExact(t.shape()[0]), Math.toIntExact(t.shape()[1]));
    }
}
