package io.conditio.plugins.text;

import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.Ordinals;
import io.conditio.api.StepContext;
import io.conditio.api.TextTokenizer;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * Text cross-attention: the prompt (and, for guidance branches that drop the {@code text} condition, the negative
 * prompt) through the model folder's CLIP tokenizer and text encoder into the UNet's {@code encoder_hidden_states},
 * as diffusers' {@code encode_prompt} does: each text encoded on its own, in the batch order of the guidance branches.
 *
 * <p>Beyond diffusers: the weighting syntax {@code (word:1.3)}, {@code (word)}, {@code [word]} (see
 * {@link PromptSyntax}; a prompt without it is encoded exactly as diffusers does), prompts longer than the encoder's
 * window (split into 75-token windows whose hidden states are concatenated), CLIP skip, and SDXL's two encoders
 * (penultimate hidden states of {@code text_encoder} and {@code text_encoder_2} concatenated; the pooled
 * {@code text_embeds} of the second fed to a UNet that declares {@code text_embeds}).
 *
 * <p>Request parameters (all optional):
 * <ul>
 *   <li>{@code clip_skip} (Integer ≥ 0): skip that many final encoder layers, as diffusers' {@code clip_skip}.</li>
 *   <li>{@code prompt_weighting} (Boolean, default true): false reads brackets literally.</li>
 *   <li>{@code prompt_embeds}, {@code negative_prompt_embeds} (FloatTensor {@code [1, tokens, dim]}) and
 *       {@code pooled_prompt_embeds}, {@code negative_pooled_prompt_embeds} (FloatTensor {@code [1, dim]}):
 *       precomputed embeddings used instead of encoding text, as diffusers' pipelines accept them. A missing negative
 *       is encoded from the negative prompt when the folder has an encoder, and zeros otherwise.</li>
 *   <li>{@code embeddings} (String {@code FILE[:TOKEN]}, several separated by {@code ;}, or a list of them):
 *       textual-inversion embedding files; see {@link Embeddings}.</li>
 * </ul>
 */
@Extension(ordinal = Ordinals.TEXT)
public final class TextConditioner implements Conditioner {
    /** The condition kind guidance branches drop to get the negative prompt. */
    public static final String KIND = "text";
    private static final String INPUT = "encoder_hidden_states";
    private static final String POOLED_INPUT = "text_embeds";

    @Override
    public String id() {
        return KIND;
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(
                ParameterDeclaration.builder("clip_skip", ParameterType.INTEGER).minimum(0, true).defaultValue(0)
                        .description("skip this many final text encoder layers (--clip-skip)").build(),
                ParameterDeclaration.builder("prompt_weighting", ParameterType.BOOLEAN).defaultValue(true)
                        .description("read (word:1.3), (word) and [word] as attention weights; false reads them "
                                + "literally").build(),
                ParameterDeclaration.builder("prompt_embeds", ParameterType.TENSOR)
                        .description("precomputed prompt embeddings [1, tokens, dim] used instead of the prompt")
                        .build(),
                ParameterDeclaration.builder("negative_prompt_embeds", ParameterType.TENSOR)
                        .description("precomputed negative prompt embeddings [1, tokens, dim]").build(),
                ParameterDeclaration.builder("pooled_prompt_embeds", ParameterType.TENSOR)
                        .description("precomputed pooled prompt embeddings [1, dim] (SDXL text_embeds)").build(),
                ParameterDeclaration.builder("negative_pooled_prompt_embeds", ParameterType.TENSOR)
                        .description("precomputed pooled negative prompt embeddings [1, dim]").build());
    }

    @Override
    public Optional<Conditioning> prepare(ConditioningContext context) {
        Model unet = context.unet();
        GenerationRequest request = context.request();
        String prompt = request.prompt();
        Optional<FloatTensor> promptEmbeds = request.parameter("prompt_embeds", FloatTensor.class);
        if (!unet.inputs().containsKey(INPUT)) {
            if (!prompt.isBlank() || promptEmbeds.isPresent()) {
                throw new InvalidRequestException("a prompt was given but " + unet + " takes no '" + INPUT
                        + "' input (not a text-conditioned UNet)");
            }
            return Optional.empty();
        }
        boolean wantsPooled = unet.inputs().containsKey(POOLED_INPUT);
        Map<String, String> provenance = new LinkedHashMap<>();
        List<FloatTensor> hidden = new ArrayList<>();
        List<FloatTensor> pooled = new ArrayList<>();
        if (promptEmbeds.isPresent()) {
            Encoders encoders = Encoders.optional(context, request);
            // as diffusers' SDXL pipelines: no negative embeddings and no negative prompt give zeros, not the
            // encoded empty prompt (force_zeros_for_empty_prompt); SD 1.x/2.x pipelines encode the empty prompt
            boolean zeroNegative = encoders != null && encoders.dual() && request.negativePrompt().isEmpty()
                    && request.parameter("negative_prompt_embeds", FloatTensor.class).isEmpty()
                    && forceZerosForEmptyPrompt(context);
            Texts both = zeroNegative ? zeroNegative(request, promptEmbeds.get())
                    : precomputed(request, promptEmbeds.get(), encoders);
            if (zeroNegative) {
                provenance.put("negative", "zeros (force_zeros_for_empty_prompt)");
            }
            for (GuidanceBranch branch : context.branches()) {
                boolean neg = branch.drops(KIND);
                hidden.add(neg ? both.negative : both.positive);
                pooled.add(neg ? both.negativePooled : both.positivePooled);
            }
            provenance.put("embeddings", "precomputed " + promptEmbeds.get().shapeString());
        } else {
            Encoders encoders = Encoders.required(context, request);
            String negative = request.negativePrompt();
            int windows = Math.max(encoders.windows(prompt), encoders.windows(negative));
            Map<String, PromptEncoder.Encoded> cache = new LinkedHashMap<>();
            // SDXL pipelines give zeros, not the encoded empty prompt, for an empty negative prompt
            boolean zeroNegative = encoders.dual() && negative.isEmpty() && forceZerosForEmptyPrompt(context);
            for (GuidanceBranch branch : context.branches()) {
                String text = branch.drops(KIND) ? negative : prompt;
                PromptEncoder.Encoded e = cache.computeIfAbsent(text, t -> encoders.encode(t, windows));
                if (zeroNegative && branch.drops(KIND)) {
                    e = new PromptEncoder.Encoded(FloatTensor.zeros(e.hidden().shape()),
                            e.pooled() == null ? null : FloatTensor.zeros(e.pooled().shape()), 0);
                }
                hidden.add(e.hidden());
                pooled.add(e.pooled());
            }
            if (zeroNegative) {
                provenance.put("negative", "zeros (force_zeros_for_empty_prompt)");
            }
            provenance.put("encoder", encoders.describe());
            if (!encoders.embeddings().isEmpty()) {
                provenance.put("textual_inversion", String.join(" ", encoders.embeddings()));
            }
            if (windows > 1) {
                provenance.put("windows", Integer.toString(windows));
            }
            request.parameter("clip_skip", Number.class).ifPresent(n -> provenance.put("clip_skip", n.toString()));
            if (!request.parameter("prompt_weighting", Boolean.class).orElse(true)) {
                provenance.put("prompt_weighting", "false");
            }
        }
        FloatTensor embeddings = FloatTensor.concatBatch(hidden.toArray(FloatTensor[]::new));
        FloatTensor textEmbeds = null;
        if (wantsPooled) {
            if (pooled.stream().anyMatch(p -> p == null)) {
                throw new InvalidRequestException(unet + " takes '" + POOLED_INPUT + "' (SDXL pooled text "
                        + "embeddings) but no pooled output was available: give pooled_prompt_embeds or a model "
                        + "folder whose text_encoder_2 outputs text_embeds");
            }
            textEmbeds = FloatTensor.concatBatch(pooled.toArray(FloatTensor[]::new));
        }
        return Optional.of(new TextConditioning(embeddings, textEmbeds, provenance));
    }

    /** model_index.json's {@code force_zeros_for_empty_prompt}, true (the SDXL default) unless it says false. */
    private static boolean forceZerosForEmptyPrompt(ConditioningContext context) {
        return !Boolean.FALSE.equals(context.modelIndex().get("force_zeros_for_empty_prompt"));
    }

    /** The positive and negative sides of precomputed embeddings. */
    private record Texts(FloatTensor positive, FloatTensor negative, FloatTensor positivePooled,
            FloatTensor negativePooled) {
    }

    /** diffusers' zero_out_negative_prompt: both negative embeddings zeros, a given negative pooled one too. */
    private static Texts zeroNegative(GenerationRequest request, FloatTensor positive) {
        FloatTensor positivePooled = request.parameter("pooled_prompt_embeds", FloatTensor.class).orElse(null);
        return new Texts(positive, FloatTensor.zeros(positive.shape()), positivePooled,
                positivePooled == null ? null : FloatTensor.zeros(positivePooled.shape()));
    }

    private static Texts precomputed(GenerationRequest request, FloatTensor positive, Encoders encoders) {
        FloatTensor positivePooled = request.parameter("pooled_prompt_embeds", FloatTensor.class).orElse(null);
        Optional<FloatTensor> negative = request.parameter("negative_prompt_embeds", FloatTensor.class);
        Optional<FloatTensor> negativePooled = request.parameter("negative_pooled_prompt_embeds", FloatTensor.class);
        PromptEncoder.Encoded encodedNegative = negative.isEmpty() && encoders != null
                ? encoders.encode(request.negativePrompt(), Math.max(1, positive.dim(1) / encoders.maxLength()))
                : null;
        FloatTensor neg = negative.orElseGet(() -> encodedNegative != null ? encodedNegative.hidden()
                : FloatTensor.zeros(positive.shape()));
        if (!neg.sameShape(positive)) {
            throw new InvalidRequestException("negative_prompt_embeds has shape " + neg.shapeString()
                    + " but prompt_embeds has " + positive.shapeString() + "; they must match");
        }
        FloatTensor negPooled = negativePooled.orElseGet(() -> encodedNegative != null && encodedNegative.pooled() != null
                ? encodedNegative.pooled()
                : positivePooled == null ? null : FloatTensor.zeros(positivePooled.shape()));
        return new Texts(positive, neg, positivePooled, negPooled);
    }

    /** The folder's one or two tokenizer + encoder pairs. */
    private static final class Encoders {
        private final List<PromptEncoder> encoders;
        private final List<Model> models;
        private final int maxLength;
        private final List<String> embeddings;

        private Encoders(List<PromptEncoder> encoders, List<Model> models, int maxLength, List<String> embeddings) {
            this.encoders = encoders;
            this.models = models;
            this.maxLength = maxLength;
            this.embeddings = embeddings;
        }

        static Encoders required(ConditioningContext context, GenerationRequest request) {
            Encoders e = optional(context, request);
            if (e == null) {
                throw new InvalidRequestException("text conditioning needs text_encoder/model.onnx and "
                        + "tokenizer/vocab.json + merges.txt in the model folder");
            }
            return e;
        }

        static Encoders optional(ConditioningContext context, GenerationRequest request) {
            Optional<TextTokenizer> tokenizer = context.tokenizer("tokenizer");
            Optional<Model> encoder = context.component("text_encoder");
            if (tokenizer.isEmpty() || encoder.isEmpty()) {
                return null;
            }
            int clipSkip = request.parameter("clip_skip", Number.class).map(Number::intValue).orElse(0);
            if (clipSkip < 0) {
                throw new InvalidRequestException("clip_skip must be 0 or more, got " + clipSkip);
            }
            boolean weighting = request.parameter("prompt_weighting", Boolean.class).orElse(true);
            Optional<Model> encoder2 = context.component("text_encoder_2");
            Optional<TextTokenizer> tokenizer2 = context.tokenizer("tokenizer_2");
            // textual inversion: the folder is the encoder file's grandparent (text_encoder/model.onnx)
            List<Embeddings.Embedding> embeddings = Embeddings.of(request,
                    encoder.get().path().toAbsolutePath().getParent().getParent(), context.tensorFiles());
            List<PromptEncoder> list = new ArrayList<>();
            List<Model> models = new ArrayList<>();
            TextTokenizer first = withEmbeddings(tokenizer.get(), encoder.get(), "text_encoder", embeddings);
            if (encoder2.isPresent()) {
                // SDXL: penultimate layer of both encoders, features concatenated
                list.add(new PromptEncoder(encoder.get(), first, weighting, clipSkip, true));
                list.add(new PromptEncoder(encoder2.get(), withEmbeddings(tokenizer2.orElse(tokenizer.get()),
                        encoder2.get(), "text_encoder_2", embeddings), weighting, clipSkip, true));
                models.add(encoder.get());
                models.add(encoder2.get());
            } else {
                list.add(new PromptEncoder(encoder.get(), first, weighting, clipSkip, false));
                models.add(encoder.get());
            }
            List<String> tokens = embeddings.stream().map(Embeddings.Embedding::describe).toList();
            return new Encoders(list, models, tokenizer.get().maxLength(), tokens);
        }

        private static TextTokenizer withEmbeddings(TextTokenizer base, Model encoder, String component,
                                                    List<Embeddings.Embedding> embeddings) {
            return embeddings.isEmpty() ? base
                    : new EmbeddingTokenizer(base, TokenTables.placeholders(encoder.path(), component, embeddings));
        }

        List<String> embeddings() {
            return embeddings;
        }

        int maxLength() {
            return maxLength;
        }

        boolean dual() {
            return encoders.size() == 2;
        }

        int windows(String text) {
            int w = 1;
            for (PromptEncoder e : encoders) {
                w = Math.max(w, e.windows(text));
            }
            return w;
        }

        PromptEncoder.Encoded encode(String text, int windows) {
            if (encoders.size() == 1) {
                return encoders.get(0).encode(text, windows);
            }
            PromptEncoder.Encoded first = encoders.get(0).encode(text, windows);
            PromptEncoder.Encoded second = encoders.get(1).encode(text, windows);
            FloatTensor hidden = FloatTensor.concat(2, first.hidden(), second.hidden());
            return new PromptEncoder.Encoded(hidden, second.pooled(), Math.max(first.tokens(), second.tokens()));
        }

        String describe() {
            List<String> paths = new ArrayList<>();
            models.forEach(m -> paths.add(m.path().toString()));
            return String.join(" + ", paths);
        }
    }

    /** The prompt embeddings of one generation. */
    private static final class TextConditioning implements Conditioning {
        private final FloatTensor embeddings;
        private final FloatTensor textEmbeds;
        private final Map<String, String> provenance;

        TextConditioning(FloatTensor embeddings, FloatTensor textEmbeds, Map<String, String> provenance) {
            this.embeddings = embeddings;
            this.textEmbeds = textEmbeds;
            this.provenance = Map.copyOf(provenance);
        }

        @Override
        public List<UnetInputDeclaration> provides() {
            List<UnetInputDeclaration> out = new ArrayList<>();
            out.add(UnetInputDeclaration.input(INPUT, ElementType.FLOAT32, embeddings.shape(),
                    "the prompt (text-conditioning)"));
            if (textEmbeds != null) {
                out.add(UnetInputDeclaration.input(POOLED_INPUT, ElementType.FLOAT32, textEmbeds.shape(),
                        "the pooled prompt embedding (text-conditioning)"));
            }
            return out;
        }

        @Override
        public void contribute(StepContext step, UnetInputs inputs) {
            inputs.put(INPUT, embeddings);
            if (textEmbeds != null) {
                inputs.put(POOLED_INPUT, textEmbeds);
            }
        }

        @Override
        public Map<String, String> provenance() {
            return provenance;
        }
    }
}
