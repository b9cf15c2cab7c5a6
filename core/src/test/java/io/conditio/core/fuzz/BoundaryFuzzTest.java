package io.conditio.core.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.ModelLoadException;
import io.conditio.api.RgbImage;
import io.conditio.core.MemoryLimit;
import io.conditio.core.image.PngImages;
import io.conditio.core.json.Json;
import io.conditio.core.npy.Npy;
import io.conditio.core.recipe.InfoText;
import io.conditio.core.recipe.Recipe;
import io.conditio.core.testing.Fixtures;
import io.conditio.core.tokenizer.ClipTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzz targets for the untrusted boundary: JSON configs, {@code .npy} arrays, image files, PNG text chunks, recipes
 * (request bodies of the server, lines of a Spark requests file), A1111 {@code parameters} texts and the CLIP
 * tokenizer.
 * Each input must either be accepted or refused with the api's exception for that boundary; anything else (another
 * exception, an {@link OutOfMemoryError}, a hang) is a finding.
 *
 * <p>In the default build Jazzer runs each target on its seed inputs (the {@code BoundaryFuzzTestInputs} folder
 * in the test resources, where every crash found so far is kept as a regression input). {@code mvn -Pfuzz} fuzzes
 * for real; see the README's "Fuzzing" section.
 */
class BoundaryFuzzTest {
    private static ClipTokenizer tokenizer;
    private static Path scratch;
    private static String limitBefore;

    @BeforeAll
    static void setUp() throws IOException {
        tokenizer = ClipTokenizer.load(Fixtures.resource("tokenizer"));
        scratch = Files.createTempDirectory("conditio-fuzz");
        limitBefore = System.getProperty(MemoryLimit.PROPERTY);
        // small enough that an image header announcing a large size is refused before decoding
        System.setProperty(MemoryLimit.PROPERTY, "64m");
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (limitBefore == null) {
            System.clearProperty(MemoryLimit.PROPERTY);
        } else {
            System.setProperty(MemoryLimit.PROPERTY, limitBefore);
        }
        try (var files = Files.list(scratch)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(scratch);
    }

    private static Path file(String name, byte[] bytes) throws IOException {
        return Files.write(scratch.resolve(name), bytes);
    }

    @FuzzTest(maxDuration = "30s")
    void jsonText(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        try {
            Object v = Json.parse(text);
            // what was read must write and read back to the same value (NaN aside, which is not equal to itself)
            if (!Json.write(v).contains("NaN")) {
                assertThat(Json.parse(Json.write(v))).isEqualTo(v);
            }
        } catch (IllegalArgumentException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    @FuzzTest(maxDuration = "30s")
    void jsonFile(byte[] bytes) throws IOException {
        Path f = file("config.json", bytes);
        try {
            Json.parseObject(f);
        } catch (ModelLoadException expected) {
            assertThat(expected.getMessage()).contains(f.toString());
        }
    }

    @FuzzTest(maxDuration = "30s")
    void npy(byte[] bytes) throws IOException {
        Path f = file("array.npy", bytes);
        try {
            Npy.readFloat(f);
        } catch (ModelLoadException expected) {
            assertThat(expected.getMessage()).contains(f.toString());
        }
    }

    @FuzzTest(maxDuration = "30s")
    void image(byte[] bytes) throws IOException {
        Path f = file("image.bin", bytes);
        try {
            RgbImage img = PngImages.read(f);
            assertThat(img.width()).isPositive();
        } catch (InvalidRequestException expected) {
            assertThat(expected.getMessage()).contains(f.toString());
        }
    }

    @FuzzTest(maxDuration = "30s")
    void tokenizer(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        long[] ids = tokenizer.encode(text);
        assertThat(ids).hasSize(tokenizer.maxLength());
        assertThat(ids[0]).isEqualTo(tokenizer.bosId());
    }

    @FuzzTest(maxDuration = "30s")
    void recipe(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        try {
            Recipe r = Recipe.parse(text, scratch);
            assertThat(r).isNotNull();
        } catch (InvalidRequestException expected) {
            assertThat(expected.getMessage()).startsWith("recipe");
        }
    }

    @FuzzTest(maxDuration = "30s")
    void pngText(byte[] bytes) throws IOException {
        Path f = file("text.png", bytes);
        try {
            Map<String, String> text = PngImages.readText(f);
            assertThat(text.keySet()).doesNotContainNull();
        } catch (InvalidRequestException expected) {
            assertThat(expected.getMessage()).contains(f.toAbsolutePath().toString());
        }
    }

    @FuzzTest(maxDuration = "30s")
    void infoText(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        // any text (a PNG from another tool, an edited one) reads as a prompt and key-value pairs, without throwing
        Map<String, String> p = InfoText.parse(text);
        assertThat(p).containsKey("Prompt");
        assertThat(p.keySet()).doesNotContainNull();
    }
}
