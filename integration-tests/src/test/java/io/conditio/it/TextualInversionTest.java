package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.LongTensor;
import io.conditio.api.ModelLoadException;
import io.conditio.core.Conditio;
import io.conditio.core.npy.Npy;
import io.conditio.core.onnx.OnnxGraph;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.pipeline.Pipeline;
import io.conditio.core.tokenizer.ClipTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Textual inversion through the text-conditioning plugin jar on the diffusers-tiny sd-tiny model: an embedding's token
 * in the prompt gives the same text-encoder output and final latents as feeding its vectors directly, that is, the
 * same prompt with existing words whose rows of the encoder's token table were overwritten with the vectors (in a
 * copy of the model, as {@code tools/textual-inversion/embedding_rows.py} does), at 1e-5 relative. The embedding
 * files ({@code embeddings-tiny/}) come from {@code tools/textual-inversion/make_fixtures.py}, with their vectors as
 * {@code .npy}.
 */
@ExtendWith(ConditioExtension.class)
class TextualInversionTest {
    private static final double TOLERANCE = 1e-5;
    private static final String TABLE = "t.embeddings.token_embedding.weight";
    @Fixture
    private static Conditio conditio;

    @TempDir
    Path tmp;

    private static Path fixture(String file) {
        return TinyFixtures.resource("embeddings-tiny/" + file);
    }

    private static GenerationRequest.Builder request(String prompt) {
        return GenerationRequest.builder().setPrompt(prompt).optSteps(4).optSeed(7).optGuidanceScale(5.0)
                .optSize(64, 64);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // file spec | its vectors | prompt with the token | the words whose rows get the vectors | reference prompt
        "a1111 two vectors | tiny-pair.safetensors | tiny-pair.npy | a tiny-pair at the top left | red circle"
                + " | a red circle at the top left",
        "diffusers key | learned_embeds.safetensors | tiny-toy.npy | a blue <tiny-toy> at the top left | circle"
                + " | a blue circle at the top left",
        "token given | learned_embeds.safetensors:shiny | tiny-toy.npy | (a shiny:1.2) at the top left | circle"
                + " | (a circle:1.2) at the top left",
    })
    void equalsFeedingTheVectorsDirectly(String name, String spec, String vectors, String prompt, String words,
                                         String reference, TestReporter reporter) throws IOException {
        Path plain = LoraTest.copySdTiny(tmp.resolve("plain"));
        Path direct = LoraTest.copySdTiny(tmp.resolve("direct"));
        ClipTokenizer tokenizer = ClipTokenizer.load(plain.resolve("tokenizer"));
        int[] rows = Arrays.stream(words.split(" ")).mapToInt(w -> single(tokenizer, w)).toArray();
        writeRows(direct.resolve("text_encoder/model.onnx"), rows, Npy.readFloat(fixture(vectors)));

        GenerationResult withEmbedding;
        GenerationResult without;
        FloatTensor hidden;
        try (Pipeline p = conditio.open(plain)) {
            withEmbedding = p.generate(request(prompt).optParameter("embeddings", fixture(spec).toString()).build());
            without = p.generate(request(prompt).build());
            // the grown encoder's own output for the token's ids (the table's rows from 1000 up)
            OnnxModel grown = p.folder().openModels().entrySet().stream()
                    .filter(e -> e.getKey().startsWith("text_encoder\u0000embeddings[")).findFirst()
                    .orElseThrow().getValue();
            hidden = lastHidden(grown, ids(tokenizer, prompt.replaceAll("[()]|:1\\.2", ""), words, 1000));
        }
        GenerationResult offline;
        FloatTensor directHidden;
        try (Pipeline p = conditio.open(direct)) {
            offline = p.generate(request(reference).build());
            directHidden = lastHidden(p.folder().model("text_encoder"),
                    tokenizer.encode(reference.replaceAll("[()]|:1\\.2", "")));
        }
        double relHidden = TinyFixtures.relativeError(hidden, directHidden);
        double rel = TinyFixtures.relativeError(withEmbedding.latents(), offline.latents());
        double changed = TinyFixtures.relativeError(without.latents(), offline.latents());
        reporter.publishEntry(String.format(Locale.ROOT,
                "PARITY textual-inversion %-18s text encoder rel %.3e, latents rel %.3e vs"
                + " the vectors fed directly (without the embedding: %.3e)", name, relHidden, rel, changed));
        assertThat(relHidden).as("text encoder output").isLessThanOrEqualTo(TOLERANCE);
        assertThat(rel).as("final latents").isLessThanOrEqualTo(TOLERANCE);
        assertThat(changed).as("the embedding changes the result").isGreaterThan(1e-3);
        assertThat(withEmbedding.provenance().entries()).containsKey("weights.text_encoder")
                .containsKey("text.textual_inversion");
    }

    @Test
    void filesInTheFoldersEmbeddingsAreFoundByNameAndSessionsAreReused() throws IOException {
        Path plain = LoraTest.copySdTiny(tmp.resolve("plain"));
        Files.createDirectories(plain.resolve("embeddings"));
        Files.copy(fixture("tiny-pair.safetensors"), plain.resolve("embeddings/tiny-pair.safetensors"));
        String prompt = "a tiny-pair at the top left";
        try (Pipeline p = conditio.open(plain)) {
            FloatTensor named = p.generate(request(prompt).build()).latents();
            FloatTensor given = p.generate(request(prompt)
                    .optParameter("embeddings", fixture("tiny-pair.safetensors").toString()).build()).latents();
            FloatTensor base = p.generate(request("a red circle at the top left").build()).latents();
            FloatTensor again = p.generate(request(prompt).build()).latents();
            // a longer word is not the token: no embedding, so no patched encoder for this request
            FloatTensor longer = p.generate(request("a tiny-pairs at the top left").build()).latents();
            FloatTensor longerPlain;
            try (Pipeline q = conditio.open(LoraTest.copySdTiny(tmp.resolve("bare")))) {
                longerPlain = q.generate(request("a tiny-pairs at the top left").build()).latents();
            }
            assertThat(TinyFixtures.relativeError(named, given)).as("embeddings/NAME found by name")
                    .isLessThanOrEqualTo(TOLERANCE);
            assertThat(again.array()).as("switching back to a patch set").containsExactly(named.array());
            assertThat(TinyFixtures.relativeError(base, named)).isGreaterThan(1e-3);
            assertThat(longer.array()).as("'tiny-pairs' is not the token 'tiny-pair'")
                    .containsExactly(longerPlain.array());
            long encoders = p.folder().openModels().keySet().stream().filter(k -> k.startsWith("text_encoder"))
                    .count();
            assertThat(encoders).as("one text encoder session plain, one with the embedding").isEqualTo(2);
        }
    }

    @Test
    void theNegativePromptMayUseAnEmbeddingToo() throws IOException {
        Path plain = LoraTest.copySdTiny(tmp.resolve("plain"));
        Path direct = LoraTest.copySdTiny(tmp.resolve("direct"));
        ClipTokenizer tokenizer = ClipTokenizer.load(plain.resolve("tokenizer"));
        writeRows(direct.resolve("text_encoder/model.onnx"), new int[] {single(tokenizer, "dog")},
                Npy.readFloat(fixture("tiny-toy.npy")));
        Files.createDirectories(plain.resolve("embeddings"));
        Files.copy(fixture("learned_embeds.safetensors"), plain.resolve("embeddings/toy.safetensors"));
        FloatTensor a;
        FloatTensor b;
        try (Pipeline p = conditio.open(plain)) {
            a = p.generate(request("a red circle").optNegativePrompt("toy").build()).latents();
        }
        try (Pipeline p = conditio.open(direct)) {
            b = p.generate(request("a red circle").optNegativePrompt("dog").build()).latents();
        }
        assertThat(TinyFixtures.relativeError(a, b)).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void badFilesAreRefusedWithTheReason() throws IOException {
        Path plain = LoraTest.copySdTiny(tmp.resolve("plain"));
        Path pt = tmp.resolve("style.pt");
        Files.write(pt, new byte[] {(byte) 0x80, 2, 'c', 'o', 's'});
        Path wide = tmp.resolve("wide.safetensors");
        writeEmbedding(wide, "emb_params", 1, 48);
        Path odd = tmp.resolve("odd.safetensors");
        writeEmbedding(odd, "a", 1, 32);
        Files.copy(odd, tmp.resolve("odd2.safetensors"));
        Files.createDirectories(plain.resolve("embeddings"));
        Files.write(plain.resolve("embeddings/easynegative.pt"), new byte[] {(byte) 0x80, 2});
        try (Pipeline p = conditio.open(plain)) {
            assertThatThrownBy(() -> p.generate(request("a x").optParameter("embeddings", pt.toString()).build()))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("pickled")
                    .hasMessageContaining("safetensors");
            assertThatThrownBy(() -> p.generate(request("a circle").optNegativePrompt("easynegative").build()))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("easynegative.pt")
                    .hasMessageContaining("pickled");
            assertThatThrownBy(() -> p.generate(request("a wide").optParameter("embeddings", wide.toString())
                    .build())).isInstanceOf(InvalidRequestException.class).hasMessageContaining("size 48")
                    .hasMessageContaining("has 32");
            assertThatThrownBy(() -> p.generate(request("a odd").optParameter("embeddings",
                    List.of(odd + ":odd", tmp.resolve("odd2.safetensors") + ":odd")).build()))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("both define the token 'odd'");
            // a circle without any embedding still works after the refusals
            assertThat(p.generate(request("a circle").build()).latents().array()).isNotEmpty();
        }
    }

    @Test
    void onlyATableReadByGatherMayGrow() {
        Path te = TinyFixtures.model("sd-tiny").resolve("text_encoder/model.onnx");
        OnnxGraph graph = OnnxGraph.read(te);
        FloatTensor table = graph.floatValue(TABLE).orElseThrow();
        float[] more = Arrays.copyOf(table.array(), table.array().length + 32);
        Arrays.fill(more, table.array().length, more.length, 0.25f);
        try (OnnxModel grown = OnnxModel.open("text_encoder", te, Map.of(TABLE, FloatTensor.of(more, 1001, 32)),
                Set.of(TABLE))) {
            long[] ids = new long[77];
            Arrays.fill(ids, 1000);
            float[] h = lastHidden(grown, ids).array();
            assertThat(h).doesNotContain(Float.NaN);
        }
        String matmul = graph.nodes().stream().filter(n -> n.opType().equals("MatMul"))
                .map(n -> n.inputs().get(1)).filter(graph.initializers()::containsKey).findFirst().orElseThrow();
        long[] shape = graph.initializers().get(matmul).shape();
        float[] w = new float[(int) ((shape[0] + 1) * shape[1])];
        assertThatThrownBy(() -> OnnxModel.open("text_encoder", te,
                Map.of(matmul, FloatTensor.of(w, (int) shape[0] + 1, (int) shape[1])), Set.of(matmul)))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("MatMul")
                .hasMessageContaining("only a table read by Gather on axis 0 can grow");
        assertThatThrownBy(() -> OnnxModel.open("text_encoder", te,
                Map.of(TABLE, FloatTensor.of(new float[1001 * 33], 1001, 33)), Set.of(TABLE)))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("keeps every dimension but the first");
        assertThatThrownBy(() -> OnnxModel.open("text_encoder", te,
                Map.of(TABLE, FloatTensor.of(more, 1001, 32))))
                .as("a grown table the patch does not declare").isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(TABLE);
    }

    private static int single(ClipTokenizer tokenizer, String word) {
        int[] ids = tokenizer.tokenize(word);
        assertThat(ids).as("'%s' is one token of sd-tiny's vocabulary", word).hasSize(1);
        return ids[0];
    }

    /** The encoder ids of a prompt whose reference words stand at the new ids from {@code first} up. */
    private static long[] ids(ClipTokenizer tokenizer, String prompt, String words, int first) {
        List<Integer> out = new ArrayList<>();
        for (String w : prompt.split(" ")) {
            if (w.equals("tiny-pair") || w.equals("<tiny-toy>") || w.equals("shiny")) {
                for (int i = 0; i < words.split(" ").length; i++) {
                    out.add(first + i);
                }
            } else {
                for (int id : tokenizer.tokenize(w)) {
                    out.add(id);
                }
            }
        }
        long[] ids = new long[tokenizer.maxLength()];
        Arrays.fill(ids, tokenizer.padId());
        ids[0] = tokenizer.bosId();
        for (int i = 0; i < out.size(); i++) {
            ids[i + 1] = out.get(i);
        }
        ids[out.size() + 1] = tokenizer.eosId();
        return ids;
    }

    private static FloatTensor lastHidden(OnnxModel encoder, long[] ids) {
        return (FloatTensor) encoder.run(Map.of("input_ids", LongTensor.of(ids, 1, ids.length)))
                .get("last_hidden_state");
    }

    /** Overwrites rows of the token table in a model file's raw bytes with the given vectors. */
    static void writeRows(Path model, int[] rows, FloatTensor vectors) {
        OnnxGraph graph = OnnxGraph.read(model);
        long offset = graph.rawDataOffset(TABLE);
        int dim = (int) graph.initializers().get(TABLE).shape()[1];
        float[] v = vectors.array();
        assertThat(v.length).isEqualTo(rows.length * dim);
        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE)) {
            for (int r = 0; r < rows.length; r++) {
                ByteBuffer buf = ByteBuffer.allocate(dim * 4).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(v, r * dim, dim);
                ch.write(buf, offset + (long) rows[r] * dim * 4);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An F32 safetensors file with one tensor {@code [rows, dim]} of small values. */
    static void writeEmbedding(Path file, String key, int rows, int dim) throws IOException {
        int n = rows * dim;
        String header = "{\"" + key + "\":{\"dtype\":\"F32\",\"shape\":[" + rows + "," + dim
                + "],\"data_offsets\":[0," + n * 4 + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + n * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        for (int i = 0; i < n; i++) {
            buf.putFloat(0.01f * (i % 5));
        }
        Files.write(file, buf.array());
    }
}
