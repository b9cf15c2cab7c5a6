package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.LongTensor;
import io.conditio.core.Conditio;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.pipeline.Pipeline;
import io.conditio.core.tokenizer.ClipTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The text-conditioning plugin beyond plain prompts: precomputed embeddings, weighting, long prompts, CLIP skip. */
@ExtendWith(ConditioExtension.class)
class TextConditioningTest {
    private static final String PROMPT = "a red circle on a white background";
    @Fixture
    private static Conditio conditio;
    @Model("sd-tiny")
    private static Pipeline sdTiny;

    private static GenerationRequest.Builder request(String prompt) {
        return GenerationRequest.builder().setPrompt(prompt).optSteps(4).optSeed(11).optScheduler("ddim");
    }

    private static FloatTensor encode(OnnxModel encoder, String output, String text) {
        try (ModelFolder folder = ModelFolder.open(TinyFixtures.model("sd-tiny"))) {
            ClipTokenizer tokenizer = folder.tokenizer("tokenizer").orElseThrow();
            return (FloatTensor) encoder.run(Map.of("input_ids", LongTensor.of(tokenizer.encode(text), 1, 77)))
                    .get(output);
        }
    }

    @Test
    void precomputedEmbeddingsOfThePromptGiveTheSameImageAsThePrompt() {
        try (OnnxModel encoder = OnnxModel.open("text_encoder",
                TinyFixtures.model("sd-tiny").resolve("text_encoder/model.onnx"))) {
            FloatTensor cond = encode(encoder, "last_hidden_state", PROMPT);
            FloatTensor uncond = encode(encoder, "last_hidden_state", "");
            GenerationResult fromText = sdTiny.generate(request(PROMPT).build());
            GenerationResult fromEmbeds = sdTiny.generate(request("").optParameter("prompt_embeds", cond)
                    .optParameter("negative_prompt_embeds", uncond).build());
            assertThat(TinyFixtures.maxAbsError(fromEmbeds.latents(), fromText.latents())).isLessThan(1e-5);
            assertThat(fromEmbeds.provenance().get("text.embeddings")).isEqualTo("precomputed [1, 77, 32]");
        }
    }

    @Test
    void aWeightOfOneIsThePlainPrompt() {
        FloatTensor plain = sdTiny.generate(request("red circle").build()).latents();
        FloatTensor weighted = sdTiny.generate(request("(red:1.0) circle").build()).latents();
        assertThat(weighted.array()).containsExactly(plain.array());
    }

    @Test
    void weightingChangesTheResultAndCanBeTurnedOff() {
        FloatTensor plain = sdTiny.generate(request("red circle").build()).latents();
        FloatTensor heavy = sdTiny.generate(request("(red:1.6) circle").build()).latents();
        FloatTensor literal = sdTiny.generate(request("(red:1.6) circle").optParameter("prompt_weighting", false)
                .build()).latents();
        assertThat(TinyFixtures.maxAbsError(heavy, plain)).isGreaterThan(1e-3);
        assertThat(TinyFixtures.maxAbsError(literal, heavy)).isGreaterThan(1e-3);
    }

    @Test
    void aPromptLongerThanOneWindowIsEncodedInWindows() {
        String longPrompt = String.join(" ", java.util.Collections.nCopies(40, "red circle"));
        GenerationResult r = sdTiny.generate(request(longPrompt).build());
        assertThat(r.provenance().get("text.windows")).isEqualTo("2");
        GenerationResult firstWindowOnly = sdTiny.generate(request(String.join(" ",
                java.util.Collections.nCopies(37, "red circle"))).build());
        assertThat(firstWindowOnly.provenance()).extracting(p -> p.get("text.windows")).isNull();
        assertThat(TinyFixtures.maxAbsError(r.latents(), firstWindowOnly.latents())).isGreaterThan(1e-4);
    }

    @Test
    void clipSkipIsTheFinalLayerNormOfAnEarlierLayerAsInDiffusers(@TempDir Path dir) throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Path sd = TinyFixtures.model("sd-tiny");
        for (String c : List.of("tokenizer", "scheduler", "vae_decoder", "unet")) {
            Files.createSymbolicLink(model.resolve(c), sd.resolve(c));
        }
        Files.createSymbolicLink(model.resolve("text_encoder"), TinyFixtures.resource("text-encoder-hidden"));
        try (Pipeline hidden = conditio.open(model);
                OnnxModel reference = OnnxModel.open("reference",
                        TinyFixtures.resource("text-encoder-hidden/clip-skip-1.onnx"))) {
            GenerationResult skipped = hidden.generate(request(PROMPT).optParameter("clip_skip", 1).build());
            GenerationResult expected = sdTiny.generate(request("")
                    .optParameter("prompt_embeds", encode(reference, "skipped", PROMPT))
                    .optParameter("negative_prompt_embeds", encode(reference, "skipped", "")).build());
            GenerationResult notSkipped = hidden.generate(request(PROMPT).build());

            assertThat(TinyFixtures.maxAbsError(skipped.latents(), expected.latents())).isLessThan(1e-4);
            assertThat(TinyFixtures.maxAbsError(notSkipped.latents(), expected.latents())).isGreaterThan(1e-3);
            assertThat(skipped.provenance().get("text.clip_skip")).isEqualTo("1");
        }
    }

    @Test
    void sdxlConcatenatesBothEncodersPenultimateLayersAndFeedsThePooledOutput(@TempDir Path dir) throws IOException {
        // an SDXL-shaped folder: two CLIP encoders (both the hidden-state export of sd-tiny's, width 32 each),
        // unet-xl taking 64-wide encoder_hidden_states and 32-wide text_embeds
        Path model = Files.createDirectories(dir.resolve("xl"));
        Path sd = TinyFixtures.model("sd-tiny");
        for (String c : List.of("scheduler", "vae_decoder")) {
            Files.createSymbolicLink(model.resolve(c), sd.resolve(c));
        }
        Files.createSymbolicLink(model.resolve("tokenizer"), sd.resolve("tokenizer"));
        Files.createSymbolicLink(model.resolve("tokenizer_2"), sd.resolve("tokenizer"));
        Files.createSymbolicLink(model.resolve("text_encoder"), TinyFixtures.resource("text-encoder-hidden"));
        Files.createSymbolicLink(model.resolve("text_encoder_2"), TinyFixtures.resource("text-encoder-hidden"));
        Files.createSymbolicLink(model.resolve("unet"), TinyFixtures.model("unet-xl"));
        try (Pipeline xl = conditio.open(model);
                OnnxModel encoder = OnnxModel.open("text_encoder",
                        TinyFixtures.resource("text-encoder-hidden/model.onnx"))) {
            GenerationRequest.Builder base = GenerationRequest.builder().optSteps(4).optSeed(5).optScheduler("ddim")
                    .optGuidanceScale(5.0).optSize(64, 64);
            GenerationResult fromText = xl.generate(base.setPrompt(PROMPT).build());

            FloatTensor penultimate = encode(encoder, "hidden_states.4", PROMPT);
            FloatTensor both = FloatTensor.concat(2, penultimate, penultimate);
            FloatTensor pooled = encode(encoder, "pooler_output", PROMPT);
            GenerationResult fromEmbeds = xl.generate(base.setPrompt("")
                    .optParameter("prompt_embeds", both)
                    .optParameter("pooled_prompt_embeds", pooled)
                    .optParameter("negative_prompt_embeds", FloatTensor.zeros(both.shape()))
                    .optParameter("negative_pooled_prompt_embeds", FloatTensor.zeros(pooled.shape()))
                    .build());

            assertThat(TinyFixtures.maxAbsError(fromText.latents(), fromEmbeds.latents())).isLessThan(1e-4);
            assertThat(fromText.provenance().get("text.negative")).contains("zeros");

            // precomputed embeddings without negative ones: zeros, as diffusers' SDXL pipeline
            // (force_zeros_for_empty_prompt), not the folder's encoding of the empty prompt
            GenerationResult noNegative = xl.generate(GenerationRequest.builder().optSteps(4).optSeed(5)
                    .optScheduler("ddim").optGuidanceScale(5.0).optSize(64, 64).setPrompt("")
                    .optParameter("prompt_embeds", both)
                    .optParameter("pooled_prompt_embeds", pooled)
                    .build());
            assertThat(noNegative.latents().array()).containsExactly(fromEmbeds.latents().array());
            assertThat(noNegative.provenance().get("text.negative")).contains("zeros");
            // a negative prompt is still encoded
            GenerationResult encodedNegative = xl.generate(GenerationRequest.builder().optSteps(4).optSeed(5)
                    .optScheduler("ddim").optGuidanceScale(5.0).optSize(64, 64).setPrompt("")
                    .optParameter("prompt_embeds", both)
                    .optParameter("pooled_prompt_embeds", pooled)
                    .optNegativePrompt("blurry")
                    .build());
            assertThat(TinyFixtures.maxAbsError(encodedNegative.latents(), fromEmbeds.latents())).isGreaterThan(1e-3);
            assertThat(fromText.provenance().get("text.encoder")).contains(" + ");

            // a model_index.json saying force_zeros_for_empty_prompt: false makes the empty negative prompt encoded
            Files.writeString(model.resolve("model_index.json"), "{\"_class_name\": \"StableDiffusionXLPipeline\", "
                    + "\"force_zeros_for_empty_prompt\": false}");
            try (Pipeline encoded = conditio.open(model)) {
                GenerationResult r = encoded.generate(GenerationRequest.builder().optSteps(4).optSeed(5)
                        .optScheduler("ddim").optGuidanceScale(5.0).optSize(64, 64).setPrompt(PROMPT).build());
                assertThat(String.valueOf(r.provenance().get("text.negative"))).doesNotContain("zeros");
                assertThat(TinyFixtures.maxAbsError(fromText.latents(), r.latents())).isGreaterThan(1e-3);
            }
        }
    }

    @Test
    void clipSkipOnAnEncoderWithoutHiddenStatesSaysWhatIsMissing() {
        assertThatThrownBy(() -> sdTiny.generate(request(PROMPT).optParameter("clip_skip", 2).build()))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--clip-skip 2 needs the text encoder's intermediate layers")
                .hasMessageContaining("hidden_states.0 ... hidden_states.N");
    }
}
