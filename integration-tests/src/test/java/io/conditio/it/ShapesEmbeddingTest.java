package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped embedding {@code models/shapes/embeddings/sun.safetensors} (two vectors trained by
 * {@code tools/shapes-model/embedding.py} to stand for a yellow circle) through the text-conditioning plugin jar: the
 * model folder's {@code embeddings/} is found by the word "sun" in the prompt, and the images show a yellow circle
 * where the prompt says (image analysis as in {@link ShapesModelTest}); the same prompts on the folder without
 * {@code embeddings/} (the word read as plain BPE pieces) do not.
 */
class ShapesEmbeddingTest {
    private static final List<String> POSITIONS = List.of("top left", "top right", "bottom left", "bottom right",
            "center");
    private static final int CASES = 20;

    @TempDir
    Path tmp;

    private static String where(String position) {
        return position.equals("center") ? "in the center" : "at the " + position;
    }

    private static String prompt(int i) {
        return (i % 2 == 0 ? "a large sun " : "a sun ") + where(POSITIONS.get(i % 5));
    }

    /** Counts of [yellow, circle, right position, all three] over the cases. */
    private static int[] score(Pipeline p, List<RgbImage> sheet, List<String> misses) {
        int[] s = new int[4];
        for (int i = 0; i < CASES; i++) {
            GenerationResult r = p.generate(GenerationRequest.builder().setPrompt(prompt(i)).optSeed(700 + i).build());
            ShapeImages.Measured m = ShapeImages.measure(r.image());
            boolean c = m.color().equals("yellow");
            boolean sh = m.shape().equals("circle");
            boolean pos = m.position().equals(POSITIONS.get(i % 5));
            s[0] += c ? 1 : 0;
            s[1] += sh ? 1 : 0;
            s[2] += pos ? 1 : 0;
            s[3] += c && sh && pos ? 1 : 0;
            if (sheet != null) {
                sheet.add(r.image());
            }
            if (!(c && sh && pos) && misses != null) {
                misses.add(prompt(i) + " -> " + m.color() + " " + m.shape() + " " + m.position());
            }
        }
        return s;
    }

    @Test
    void theTokenSunDrawsAYellowCircleWhereThePromptSays(TestReporter reporter) {
        Path shipped = ShapesModelTest.modelDir();
        assertThat(shipped.resolve("embeddings/sun.safetensors")).isRegularFile();
        Path without = withoutEmbeddings(shipped, tmp.resolve("plain"));
        List<RgbImage> sheet = new ArrayList<>();
        List<String> misses = new ArrayList<>();
        int[] with;
        int[] plain;
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()))) {
            try (Pipeline p = conditio.open(shipped)) {
                with = score(p, sheet, misses);
                GenerationResult one = p.generate(GenerationRequest.builder().setPrompt(prompt(0)).optSeed(700)
                        .build());
                assertThat(one.provenance().entries().get("text.textual_inversion")).startsWith("sun (sun.safetensors");
            }
            try (Pipeline p = conditio.open(without)) {
                plain = score(p, null, null);
            }
        }
        ShapesModelTest.writeSheet(sheet, 10, Path.of("target", "shapes-embedding-sheet.png"));
        reporter.publishEntry(String.format(Locale.ROOT,
                "SHAPES embedding 'sun': yellow %d/%d, circle %d/%d, position %d/%d, all %d/%d;"
                + " without the embedding: yellow %d, circle %d, position %d, all %d; misses: %s", with[0], CASES,
                with[1], CASES, with[2], CASES, with[3], CASES, plain[0], plain[1], plain[2], plain[3], misses));
        assertThat(with[0] / (double) CASES).as("yellow with the embedding").isGreaterThanOrEqualTo(0.85);
        assertThat(with[1] / (double) CASES).as("circle with the embedding").isGreaterThanOrEqualTo(0.75);
        assertThat(with[2] / (double) CASES).as("position with the embedding").isGreaterThanOrEqualTo(0.85);
        assertThat(plain[3]).as("yellow circles at the right place without the embedding").isLessThanOrEqualTo(
                with[3] / 3);
    }

    /** The shipped folder's components linked into {@code dir}, leaving out {@code embeddings/}. */
    private static Path withoutEmbeddings(Path shipped, Path dir) {
        try (Stream<Path> list = Files.list(shipped)) {
            Files.createDirectories(dir);
            for (Path f : list.toList()) {
                if (!f.getFileName().toString().equals("embeddings")) {
                    Files.createSymbolicLink(dir.resolve(f.getFileName().toString()), f.toAbsolutePath());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }
}
