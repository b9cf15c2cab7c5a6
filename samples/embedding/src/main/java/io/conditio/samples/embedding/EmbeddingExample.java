package io.conditio.samples.embedding;

import io.conditio.api.GenerationCancelledException;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.pipeline.Pipeline;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How a host application embeds Conditio: start the plugin runtime once, open a pipeline per model folder, and run
 * generations on it (from any thread), with progress callbacks and a deadline that cancels a slow generation.
 *
 * <pre>
 * java -cp ... io.conditio.samples.embedding.EmbeddingExample MODEL_DIR PLUGIN_DIR OUT_DIR
 * </pre>
 */
public final class EmbeddingExample {
    private EmbeddingExample() {
    }

    /**
     * Generates one image per prompt into {@code out}.
     *
     * @param model    a model folder
     * @param plugins  the plugin directory
     * @param out      where the PNGs go
     * @param prompts  what to draw
     * @param deadline per-generation time limit; a generation past it is cancelled and skipped
     * @param log      progress output
     * @return the written files
     */
    public static List<Path> run(Path model, Path plugins, Path out, List<String> prompts, Duration deadline,
            PrintStream log) {
        List<Path> written = new ArrayList<>();
        try (Conditio conditio = Conditio.start(List.of(plugins)); Pipeline pipeline = conditio.open(model)) {
            for (int i = 0; i < prompts.size(); i++) {
                long start = System.nanoTime();
                String prompt = prompts.get(i);
                GenerationRequest request = GenerationRequest.builder()
                        .setPrompt(prompt)
                        .optSeed(i)
                        .optSteps(12)
                        .optScheduler("dpm++2m")
                        .optAfterStep(step -> {
                            log.printf("  %s: step %d/%d%n", prompt, step.stepIndex() + 1, step.totalSteps());
                            if (System.nanoTime() - start > deadline.toNanos()) {
                                step.cancel();
                            }
                        })
                        .build();
                try {
                    GenerationResult result = pipeline.generate(request);
                    Path file = out.resolve("image-" + i + ".png");
                    PngImages.write(file, result.image(), result.provenance().entries());
                    written.add(file);
                    log.printf("wrote %s (%.1f ms per step)%n", file, result.timings().meanStepMillis());
                } catch (GenerationCancelledException e) {
                    log.println("skipped '" + prompt + "': " + e.getMessage());
                }
            }
        }
        return written;
    }

    /** @param args model folder, plugin directory, output folder */
    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: EmbeddingExample MODEL_DIR PLUGIN_DIR OUT_DIR");
            System.exit(2);
        }
        run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]),
                List.of("a red circle at the top left", "a blue square in the center"), Duration.ofSeconds(30),
                System.out);
    }
}
