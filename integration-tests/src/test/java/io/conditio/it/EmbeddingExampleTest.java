package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.core.image.PngImages;
import io.conditio.samples.embedding.EmbeddingExample;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedding example runs as documented: images with provenance, progress, and cancellation past a deadline. */
class EmbeddingExampleTest {

    @Test
    void writesOneImagePerPromptWithProgress(@TempDir Path out) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<Path> files = EmbeddingExample.run(TinyFixtures.model("sd-tiny"), TinyFixtures.pluginDir(), out,
                List.of("a red circle", "a blue square"), Duration.ofMinutes(5),
                new PrintStream(log, true, StandardCharsets.UTF_8));
        assertThat(files).hasSize(2);
        assertThat(PngImages.readText(files.get(1))).containsEntry("prompt", "a blue square")
                .containsEntry("scheduler", "dpm++2m").containsEntry("seed", "1");
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("a red circle: step 12/12");
    }

    @Test
    void aGenerationPastItsDeadlineIsCancelledAndSkipped(@TempDir Path out) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<Path> files = EmbeddingExample.run(TinyFixtures.model("sd-tiny"), TinyFixtures.pluginDir(), out,
                List.of("a red circle"), Duration.ZERO, new PrintStream(log, true, StandardCharsets.UTF_8));
        assertThat(files).isEmpty();
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("skipped 'a red circle'").contains("step 1 of 12");
    }
}
