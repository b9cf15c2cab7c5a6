package io.conditio.plugins.text;

import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.LongTensor;
import io.conditio.api.Model;
import io.conditio.api.StepContext;
import io.conditio.api.Tensor;
import io.conditio.api.TextTokenizer;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * Text cross-attention: the prompt (and, for unconditional guidance branches, the negative prompt) through the CLIP
 * tokenizer and text encoder of the model folder into the UNet's {@code encoder_hidden_states}, as diffusers'
 * {@code encode_prompt} does (each text encoded on its own, batch order of the guidance branches).
 */
@Extension(ordinal = 10)
public final class TextConditioner implements Conditioner {
    /** The condition kind guidance branches drop to get the negative prompt. */
    public static final String KIND = "text";
    private static final String INPUT = "encoder_hidden_states";

    @Override
    public String id() {
        return KIND;
    }

    @Override
    public Optional<Conditioning> prepare(ConditioningContext context) {
        Model unet = context.unet();
        String prompt = context.request().prompt();
        if (!unet.inputs().containsKey(INPUT)) {
            if (!prompt.isBlank()) {
                throw new InvalidRequestException("a prompt was given but " + unet + " takes no '" + INPUT
                        + "' input (not a text-conditioned UNet)");
            }
            return Optional.empty();
        }
        TextTokenizer tokenizer = context.tokenizer("tokenizer").orElseThrow(() -> new InvalidRequestException(
                "text conditioning needs tokenizer/vocab.json and tokenizer/merges.txt in the model folder"));
        Model encoder = context.component("text_encoder").orElseThrow(() -> new InvalidRequestException(
                "text conditioning needs text_encoder/model.onnx in the model folder"));
        String negative = context.request().negativePrompt();
        Map<String, FloatTensor> encoded = new LinkedHashMap<>();
        List<FloatTensor> batch = new ArrayList<>();
        for (GuidanceBranch branch : context.branches()) {
            String text = branch.drops(KIND) ? negative : prompt;
            batch.add(encoded.computeIfAbsent(text, t -> encode(encoder, tokenizer, t)));
        }
        FloatTensor embeddings = FloatTensor.concatBatch(batch.toArray(FloatTensor[]::new));
        Map<String, String> provenance = new LinkedHashMap<>();
        provenance.put("encoder", encoder.path().toString());
        int tokens = tokenizer.tokenize(prompt).length;
        int room = tokenizer.maxLength() - 2;
        if (tokens > room) {
            provenance.put("truncated", "prompt has " + tokens + " tokens; the encoder saw the first " + room);
        }
        return Optional.of(new TextConditioning(embeddings, provenance));
    }

    private static FloatTensor encode(Model encoder, TextTokenizer tokenizer, String text) {
        long[] ids = tokenizer.encode(text);
        String input = encoder.inputs().containsKey("input_ids") ? "input_ids"
                : encoder.inputs().keySet().iterator().next();
        Map<String, Tensor> out = encoder.run(Map.of(input, LongTensor.of(ids, 1, ids.length)));
        Tensor hidden = out.containsKey("last_hidden_state") ? out.get("last_hidden_state")
                : out.values().iterator().next();
        if (!(hidden instanceof FloatTensor f) || f.rank() != 3) {
            throw new InvalidRequestException(encoder + " gave " + hidden + " as its hidden states; expected a "
                    + "float tensor [batch, tokens, dim] named last_hidden_state");
        }
        return f;
    }

    /** The prompt embeddings of one generation. */
    private static final class TextConditioning implements Conditioning {
        private final FloatTensor embeddings;
        private final Map<String, String> provenance;

        TextConditioning(FloatTensor embeddings, Map<String, String> provenance) {
            this.embeddings = embeddings;
            this.provenance = Map.copyOf(provenance);
        }

        @Override
        public List<UnetInputDeclaration> provides() {
            return List.of(UnetInputDeclaration.input(INPUT, ElementType.FLOAT32, embeddings.shape(),
                    "the prompt (text-conditioning)"));
        }

        @Override
        public void contribute(StepContext step, UnetInputs inputs) {
            inputs.put(INPUT, embeddings);
        }

        @Override
        public Map<String, String> provenance() {
            return provenance;
        }
    }
}
