package io.conditio.cli;

import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.io.AtomicOutputs;
import io.conditio.core.model.ModelHash;
import io.conditio.core.pipeline.Pipeline;
import io.conditio.core.plugin.PluginInfo;
import io.conditio.core.recipe.Recipe;
import io.conditio.core.recipe.Reproduction;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code conditio regenerate}: makes a Conditio PNG again from its own provenance, and checks the pixels. */
@Command(name = "regenerate", mixinStandardHelpOptions = true,
        description = "Regenerate a PNG made by conditio from the recipe it carries. Refuses, saying what differs, "
                + "when the model folder's hash or a plugin's version is not what made the image. Exit 0 when the "
                + "pixels are identical, 4 when they differ, 5 when refused.")
final class RegenerateCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE.png", description = "A PNG written by conditio generate.")
    Path png;

    @Option(names = "--out", paramLabel = "OUT.png",
            description = "Where to write the regenerated image (default: FILE-regenerated.png beside FILE).")
    Path out;

    @Option(names = "--model", paramLabel = "DIR",
            description = "The model folder, when it has moved (default: the folder the PNG names); its hash must "
                    + "still match.")
    Path model;

    @Mixin
    PluginDirectoryOption plugins = new PluginDirectoryOption();

    @Override
    public Integer call() throws IOException {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, String> text = PngImages.readText(png);
        String json = text.get(Reproduction.RECIPE_KEY);
        if (json == null) {
            String why = text.get(Reproduction.NOT_REPRODUCIBLE_KEY);
            throw new InvalidRequestException(png + " cannot be regenerated: " + (why != null ? why
                    : "it holds no " + Reproduction.RECIPE_KEY + " text (not written by conditio generate, or by "
                            + "a version before regenerate existed)"));
        }
        Recipe recipe = Recipe.parse(json, Path.of("").toAbsolutePath());
        Path folder = model != null ? model : recipe.model().orElseThrow(() -> new InvalidRequestException(
                png + ": its recipe names no model folder; give --model"));
        if (!Files.isDirectory(folder)) {
            throw new InvalidRequestException(png + " was made with model folder " + folder + ", which does not "
                    + "exist here; give --model DIR");
        }
        Path target = out != null ? out : png.resolveSibling(OutputFiles.stem(png) + "-regenerated.png");
        OutputFiles.checkWritable("--out", target);
        List<String> differences = new ArrayList<>();
        String recorded = text.get(Reproduction.MODEL_HASH_KEY);
        String now = ModelHash.of(folder);
        if (recorded == null) {
            differences.add("the PNG records no model hash");
        } else if (!recorded.equals(now)) {
            differences.add("model folder " + folder + " has changed: its hash is " + ModelHash.shortForm(now)
                    + " but the image was made with " + ModelHash.shortForm(recorded));
        }
        Path pluginDir = plugins.directory();
        try (Conditio conditio = Conditio.start(List.of(pluginDir))) {
            Map<String, String> loaded = new java.util.LinkedHashMap<>();
            for (PluginInfo p : conditio.plugins().plugins()) {
                if (p.usable()) {
                    loaded.put(p.id(), p.version());
                }
            }
            Reproduction.pluginVersions(text.get("plugins")).forEach((id, version) -> {
                String have = loaded.get(id);
                if (have == null) {
                    differences.add("plugin " + id + " " + version + " made the image but is not loaded from "
                            + pluginDir);
                } else if (!have.equals(version)) {
                    differences.add("plugin " + id + " is " + have + " but the image was made with " + version);
                }
            });
            if (!differences.isEmpty()) {
                err.println("conditio: refusing to regenerate " + png + ": " + String.join("; ", differences));
                return 5;
            }
            try (Pipeline pipeline = conditio.open(folder)) {
                GenerationResult result = pipeline.generate(recipe.toRequest(pipeline.parameters()));
                AtomicOutputs.writeAll(Map.of(target, PngImages.encode(result.image(),
                        result.provenance().entries())));
                RgbImage before = PngImages.read(png);
                RgbImage after = PngImages.read(target);
                long differing = 0;
                int worst = 0;
                if (before.width() == after.width() && before.height() == after.height()) {
                    float[] a = before.pixels();
                    float[] b = after.pixels();
                    for (int i = 0; i < a.length; i++) {
                        int d = Math.abs(Math.round(a[i] * 255) - Math.round(b[i] * 255));
                        if (d != 0) {
                            differing++;
                            worst = Math.max(worst, d);
                        }
                    }
                } else {
                    throw new InvalidRequestException("regenerated " + after.width() + "x" + after.height()
                            + " but " + png + " is " + before.width() + "x" + before.height());
                }
                if (differing == 0) {
                    o.println("wrote " + target + ": identical pixels to " + png + " (" + after.width() + "x"
                            + after.height() + ", seed " + result.provenance().get("seed") + ")");
                    return 0;
                }
                o.println("wrote " + target + ": " + differing + " of " + before.pixels().length
                        + " samples differ from " + png + " (at most " + worst + "/255)");
                return 4;
            }
        }
    }
}
