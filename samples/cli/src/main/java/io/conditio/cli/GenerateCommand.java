package io.conditio.cli;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.StepTimings;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.json.Json;
import io.conditio.core.npy.Npy;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conditio generate}: one image from a model folder. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate an image with a Stable Diffusion-style ONNX model folder.")
final class GenerateCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "Model folder in the diffusers/optimum ONNX layout.")
    Path model;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "", description = "What to draw.")
    String prompt;

    @Option(names = "--negative-prompt", paramLabel = "TEXT", defaultValue = "",
            description = "What to steer away from (the unconditional branch of guidance).")
    String negativePrompt;

    @Option(names = "--steps", paramLabel = "N", description = "Inference steps (default: 20).")
    Integer steps;

    @Option(names = "--guidance", paramLabel = "G", defaultValue = "7.5",
            description = "Classifier-free guidance scale; 1 or less turns guidance off (default: ${DEFAULT-VALUE}).")
    double guidance;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the torch-compatible generator "
            + "(default: random, printed and recorded in the PNG).")
    Long seed;

    @Option(names = "--width", paramLabel = "W", description = "Width in pixels (default: UNet sample size × VAE factor).")
    Integer width;

    @Option(names = "--height", paramLabel = "H", description = "Height in pixels (default: as width).")
    Integer height;

    @ArgGroup(exclusive = true)
    SchedulerChoice scheduler;

    static final class SchedulerChoice {
        @Option(names = "--scheduler", paramLabel = "NAME",
                description = "Scheduler name (ddim, pndm, euler, euler-a, dpm++2m, ... see 'conditio plugins') or a "
                        + "diffusers class name; inherits the model folder's scheduler config.")
        String name;

        @Option(names = "--scheduler-config", paramLabel = "FILE.json",
                description = "A diffusers scheduler_config.json: _class_name picks the scheduler, the other keys "
                        + "configure it (on top of the model folder's config).")
        Path config;
    }

    @Option(names = "--out", paramLabel = "FILE.png", defaultValue = "conditio.png",
            description = "Output PNG, with the provenance in text chunks (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--save-latents", paramLabel = "FILE.npy",
            description = "Also write the final latents (before the VAE) as a NumPy float32 NCHW array.")
    Path saveLatents;

    @Option(names = "--plugins", paramLabel = "DIR",
            description = "Plugin directory (default: $CONDITIO_PLUGINS, else plugins/ beside the launcher).")
    Path plugins;

    @Override
    public Integer call() {
        if (!Files.isDirectory(model)) {
            throw new InvalidRequestException("--model " + model + ": no such directory");
        }
        GenerationRequest.Builder b = GenerationRequest.builder().setPrompt(prompt).optNegativePrompt(negativePrompt)
                .optGuidanceScale(guidance);
        if (steps != null) {
            b.optSteps(steps);
        }
        if (seed != null) {
            b.optSeed(seed);
        }
        if (width != null) {
            b.optWidth(width);
        }
        if (height != null) {
            b.optHeight(height);
        } else if (width != null) {
            b.optHeight(width);
        }
        if (scheduler != null && scheduler.name != null) {
            b.optScheduler(scheduler.name);
        }
        if (scheduler != null && scheduler.config != null) {
            b.optSchedulerConfig(readSchedulerConfig(scheduler.config));
        }
        Path pluginDir = ConditioCli.pluginDirectory(plugins);
        try (Conditio conditio = Conditio.start(List.of(pluginDir));
                Pipeline pipeline = conditio.open(model)) {
            GenerationResult result = pipeline.generate(b.build());
            PngImages.write(out, result.image(), result.provenance().entries());
            if (saveLatents != null) {
                Npy.write(saveLatents, result.latents());
            }
            StepTimings t = result.timings();
            var p = result.provenance();
            spec.commandLine().getOut().printf(Locale.ROOT,
                    "wrote %s (%sx%s, seed %s, %s steps, %s, %s)%n  loop %.1f ms per step, UNet %.1f ms per call, "
                            + "%d calls; prepare %.1f ms, decode %.1f ms%n",
                    out, p.get("width"), p.get("height"), p.get("seed"), p.get("steps"), p.get("scheduler"),
                    p.get("guidance"), t.meanStepMillis(), t.meanUnetMillis(), t.modelCalls(),
                    t.prepareNanos() / 1e6, t.decodeNanos() / 1e6);
            if (saveLatents != null) {
                spec.commandLine().getOut().println("wrote " + saveLatents + " (latents "
                        + result.latents().shapeString() + ")");
            }
        }
        return 0;
    }

    private static Map<String, Object> readSchedulerConfig(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidRequestException("--scheduler-config " + file + ": no such file");
        }
        try {
            return Json.parseObject(file);
        } catch (RuntimeException e) {
            throw new InvalidRequestException("--scheduler-config " + file + ": " + e.getMessage());
        }
    }
}
