package io.conditio.bench;

import io.conditio.api.GenerationRequest;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The model and plugins the benchmarks run: {@code models/shapes} and the plugin folder the CLI build makes, relative
 * to the working directory (the repository root), or {@code -Dconditio.bench.model} / {@code -Dconditio.bench.plugins}
 * given to the forked JVM with {@code -jvmArgsAppend}.
 */
final class Fixture implements AutoCloseable {
    static final String PROMPT = "a red circle on a white background";

    final Conditio conditio;
    final Pipeline pipeline;

    Fixture() {
        Path model = Path.of(System.getProperty("conditio.bench.model", "models/shapes"));
        Path plugins = Path.of(System.getProperty("conditio.bench.plugins", "samples/cli/target/plugins"));
        for (Path p : List.of(model, plugins)) {
            if (!Files.isDirectory(p)) {
                throw new IllegalStateException(p.toAbsolutePath() + " is missing: run the benchmarks from the "
                        + "repository root after building the CLI (see the README's performance section)");
            }
        }
        conditio = Conditio.start(List.of(plugins));
        pipeline = conditio.open(model);
    }

    static GenerationRequest request(int size, int steps) {
        return request(size, steps, 1);
    }

    /**
     * @param size   the image side in pixels
     * @param steps  DDIM steps
     * @param images images per prompt, generated as one UNet batch (guidance doubles it)
     * @return the request the benchmarks time
     */
    static GenerationRequest request(int size, int steps, int images) {
        return GenerationRequest.builder().setPrompt(PROMPT).optSteps(steps).optSeed(0).optSize(size, size)
                .optScheduler("ddim").optImagesPerPrompt(images).build();
    }

    @Override
    public void close() {
        pipeline.close();
        conditio.close();
    }
}
