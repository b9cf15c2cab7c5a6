package io.conditio.core.recipe;

import io.conditio.api.GenerationRequest;
import io.conditio.api.RgbImage;
import io.conditio.api.Tensor;
import io.conditio.core.image.PngImages;
import io.conditio.core.json.Json;
import io.conditio.core.parameters.ParameterCatalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a PNG needs so that {@code conditio regenerate} can make it again: the generation as a {@link Recipe} (seed,
 * steps and size made explicit, images inlined as {@code data:} URIs), under {@value #RECIPE_KEY}, beside the model
 * folder's hash and the plugins' versions that the provenance already holds. A request that a recipe cannot hold
 * exactly (a tensor parameter, an image whose samples are not whole 8-bit levels) gets
 * {@value #NOT_REPRODUCIBLE_KEY} with the reason instead.
 */
public final class Reproduction {
    /** The PNG text key of the recipe. */
    public static final String RECIPE_KEY = "conditio.recipe";
    /** The PNG text key saying why an image has no recipe. */
    public static final String NOT_REPRODUCIBLE_KEY = "conditio.not_reproducible";
    /** The PNG text key of the model folder's hash. */
    public static final String MODEL_HASH_KEY = "model_hash";
    /** Longer prompts are cut in the PNG (a megabyte of prompt must not make a megabyte PNG): no recipe holds them. */
    public static final int MAX_PROMPT_CHARS = 16_384;

    private Reproduction() {
    }

    /**
     * @param request the request as it ran (the folder's suggested guidance scale applied)
     * @param model   the model folder
     * @param seed    the seed used
     * @param steps   the steps run
     * @param width   the width
     * @param height  the height
     * @return the recipe JSON, or the reason there is none
     */
    public static Result recipe(GenerationRequest request, Path model, long seed, int steps, int width, int height) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", model.toAbsolutePath().normalize().toString());
        r.put("prompt", request.prompt());
        if (!request.negativePrompt().isEmpty()) {
            r.put("negative_prompt", request.negativePrompt());
        }
        r.put("seed", seed);
        r.put("steps", steps);
        r.put("guidance_scale", request.guidanceScale());
        r.put("width", width);
        r.put("height", height);
        request.scheduler().ifPresent(s -> r.put("scheduler", s));
        request.schedulerConfig().ifPresent(c -> r.put("scheduler_config", c));
        Map<String, Object> parameters = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        if (request.prompt().length() > MAX_PROMPT_CHARS || request.negativePrompt().length() > MAX_PROMPT_CHARS) {
            problems.add("the prompt or negative prompt is longer than the " + MAX_PROMPT_CHARS
                    + " characters a PNG keeps");
        }
        for (Map.Entry<String, Object> p : request.parameters().entrySet()) {
            if (p.getKey().startsWith(ParameterCatalog.ANNOTATION_PREFIX)) {
                continue;
            }
            parameters.put(p.getKey(), json(p.getValue(), "parameter '" + p.getKey() + "'", problems));
        }
        if (!parameters.isEmpty()) {
            r.put("parameters", parameters);
        }
        if (!problems.isEmpty()) {
            return new Result(Optional.empty(), Optional.of(String.join("; ", problems)));
        }
        return new Result(Optional.of(Json.write(r)), Optional.empty());
    }

    /**
     * @param recipe the recipe JSON, when the request could be written as one
     * @param reason why it could not, otherwise
     */
    public record Result(Optional<String> recipe, Optional<String> reason) {
    }

    private static Object json(Object v, String where, List<String> problems) {
        if (v instanceof RgbImage img) {
            if (!wholeLevels(img)) {
                problems.add(where + " is an image whose samples are not whole 8-bit levels (a PNG cannot hold "
                        + "it exactly)");
                return null;
            }
            try {
                return "data:image/png;base64," + Base64.getEncoder().encodeToString(PngImages.encode(img, Map.of()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (v instanceof Tensor) {
            problems.add(where + " is a tensor, which the PNG does not hold");
            return null;
        }
        if (v instanceof Path p) {
            return p.toAbsolutePath().normalize().toString();
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), json(x, where + " field '" + k + "'", problems)));
            return out;
        }
        if (v instanceof Iterable<?> list) {
            List<Object> out = new ArrayList<>();
            list.forEach(x -> out.add(json(x, where, problems)));
            return out;
        }
        if (v instanceof Number || v instanceof Boolean || v instanceof String || v == null) {
            return v;
        }
        problems.add(where + " is a " + v.getClass().getSimpleName() + ", which a recipe cannot hold");
        return null;
    }

    private static boolean wholeLevels(RgbImage img) {
        for (float f : img.pixels()) {
            float scaled = f * 255f;
            int level = Math.round(scaled);
            if (level < 0 || level > 255 || level / 255f != f) {
                return false;
            }
        }
        return true;
    }

    /**
     * The plugins a generation's provenance names, as {@code id -> version}.
     *
     * @param plugins the provenance's {@code plugins} entry, e.g. {@code scheduler=schedulers@0.1.0, text=...}
     * @return plugin id to version, in order
     */
    public static Map<String, String> pluginVersions(String plugins) {
        Map<String, String> out = new LinkedHashMap<>();
        if (plugins == null || plugins.isBlank()) {
            return out;
        }
        for (String part : plugins.split(", ")) {
            String origin = part.substring(part.indexOf('=') + 1);
            int at = origin.lastIndexOf('@');
            if (at > 0) {
                out.put(origin.substring(0, at), origin.substring(at + 1));
            }
        }
        return out;
    }
}
