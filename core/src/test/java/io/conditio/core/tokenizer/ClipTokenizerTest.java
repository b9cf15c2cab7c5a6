package io.conditio.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ModelLoadException;
import io.conditio.core.json.Json;
import io.conditio.core.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ClipTokenizerTest {

    private static ClipTokenizer tokenizer;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        tokenizer = ClipTokenizer.load(Fixtures.resource("tokenizer"));
    }

    @SuppressWarnings("unchecked")
    static Stream<Map<String, Object>> cases() {
        Map<String, Object> ref = Json.parseObject(Fixtures.resource("reference/clip-tokenizer-cases.json"));
        assertThat(ref.get("max_length")).isEqualTo(77L);
        List<Map<String, Object>> cases = (List<Map<String, Object>>) ref.get("cases");
        assertThat(cases).isNotEmpty();
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("cases")
    @SuppressWarnings("unchecked")
    void encodeMatchesHuggingFace(Map<String, Object> c) {
        String prompt = (String) c.get("prompt");
        long[] expected = ((List<Object>) c.get("input_ids")).stream().mapToLong(o -> (Long) o).toArray();
        assertThat(tokenizer.encode(prompt)).as("prompt %s", prompt).containsExactly(expected);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void tokenizeIsEncodeWithoutSpecialTokensOrPadding(Map<String, Object> c) {
        String prompt = (String) c.get("prompt");
        int[] ids = tokenizer.tokenize(prompt);
        long[] encoded = tokenizer.encode(prompt);
        int body = Math.min(ids.length, tokenizer.maxLength() - 2);
        assertThat(encoded).hasSize(tokenizer.maxLength());
        assertThat(encoded[0]).isEqualTo(tokenizer.bosId());
        for (int i = 0; i < body; i++) {
            assertThat(encoded[i + 1]).isEqualTo(ids[i]);
        }
        assertThat(encoded[body + 1]).isEqualTo(tokenizer.eosId());
        for (int i = body + 2; i < encoded.length; i++) {
            assertThat(encoded[i]).isEqualTo(tokenizer.padId());
        }
    }

    @Test
    void specialTokensAndSettingsComeFromTheFolder() {
        assertThat(tokenizer.maxLength()).isEqualTo(77);
        assertThat(tokenizer.bosId()).isEqualTo(789);
        assertThat(tokenizer.eosId()).isEqualTo(790);
        assertThat(tokenizer.padId()).isEqualTo(790);
        assertThat(tokenizer.tokenize("")).isEmpty();
        assertThat(tokenizer.tokenize(" \t\n ")).isEmpty();
    }

    @Test
    void longPromptKeepsFinalEndToken() {
        String prompt = "dog cat ".repeat(100);
        int[] ids = tokenizer.tokenize(prompt);
        assertThat(ids.length).isGreaterThan(75);
        long[] encoded = tokenizer.encode(prompt);
        assertThat(encoded).hasSize(77);
        assertThat(encoded[76]).isEqualTo(tokenizer.eosId());
        assertThat(Arrays.copyOfRange(encoded, 1, 76))
                .containsExactly(Arrays.stream(ids, 0, 75).asLongStream().toArray());
    }

    @Test
    void whitespaceAndCaseDoNotMatter() {
        assertThat(tokenizer.tokenize("  A\u00a0GREEN\t\ttriangle \n"))
                .containsExactly(tokenizer.tokenize("a green triangle"));
        // NFD input normalises to the same ids as NFC
        assertThat(tokenizer.tokenize("nai\u0308ve")).containsExactly(tokenizer.tokenize("na\u00efve"));
    }

    @Test
    void isThreadSafe() throws Exception {
        List<String> prompts = List.of("a green triangle next to a yellow star", "it's a dog's life; we'll see!",
                "naïve résumé — ünïcödé ☃", "42 red circles", "A  Castle   on a HILL,\tat night");
        ClipTokenizer fresh = ClipTokenizer.load(Fixtures.resource("tokenizer"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<long[]>> futures = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String p = prompts.get(i % prompts.size());
                futures.add(pool.submit(() -> fresh.encode(p)));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertThat(futures.get(i).get()).containsExactly(tokenizer.encode(prompts.get(i % prompts.size())));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void missingFilesAreNamed() throws Exception {
        Path dir = tmp.resolve("tok");
        Files.createDirectories(dir);
        assertThatThrownBy(() -> ClipTokenizer.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(dir.resolve("vocab.json").toString());

        Files.copy(Fixtures.resource("tokenizer/vocab.json"), dir.resolve("vocab.json"));
        assertThatThrownBy(() -> ClipTokenizer.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(dir.resolve("merges.txt").toString());
    }

    /** @return a tokenizer folder under the temp folder with the fixture's vocab.json and merges.txt only */
    private Path vocabularyOnly(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(Fixtures.resource("tokenizer/vocab.json"), dir.resolve("vocab.json"));
        Files.copy(Fixtures.resource("tokenizer/merges.txt"), dir.resolve("merges.txt"));
        return dir;
    }

    @Test
    void padTokenMayBeAnObjectAndDefaultsApplyWithoutConfigFiles() throws Exception {
        Path dir = vocabularyOnly("sd2");
        ClipTokenizer defaults = ClipTokenizer.load(dir);
        assertThat(defaults.padId()).isEqualTo(790);
        assertThat(defaults.maxLength()).isEqualTo(77);

        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"model_max_length\": 1000000000000000019884624838656, \"pad_token\": \"<|endoftext|>\"}");
        Files.writeString(dir.resolve("special_tokens_map.json"),
                "{\"pad_token\": {\"content\": \"!\", \"lstrip\": false, \"normalized\": false}}");
        ClipTokenizer sd2 = ClipTokenizer.load(dir);
        assertThat(sd2.padId()).isZero();
        assertThat(sd2.maxLength()).isEqualTo(77);
        long[] ids = sd2.encode("a dog");
        assertThat(ids[ids.length - 1]).isZero();
        assertThat(ids[0]).isEqualTo(789);
    }

    @Test
    void unknownSpecialTokenIsAnError() throws Exception {
        Path dir = vocabularyOnly("bad");
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"<pad>\"}");
        assertThatThrownBy(() -> ClipTokenizer.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("<pad>")
                .hasMessageContaining(dir.toString());
    }
}
