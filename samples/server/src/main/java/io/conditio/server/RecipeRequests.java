package io.conditio.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.ParameterDeclaration;
import io.conditio.core.recipe.Recipe;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A native request body: a recipe as core's {@link Recipe} reads it (the same fields, types and messages as
 * {@code conditio generate --recipe}), with two differences a server needs. {@code model} is the name of one of the
 * server's models, never a folder; {@code parameters} are converted by {@link ServerParameters}, which takes no paths
 * (images are {@code data:} URLs or multipart parts, model fields name the server's folders). The server's limits
 * apply on top.
 */
final class RecipeRequests {
    private static final Pattern FIELD = Pattern.compile("^recipe: '([a-z_]+)'");

    /** The model a recipe names and its request. */
    record Parsed(String model, GenerationRequest request) {
    }

    private RecipeRequests() {
    }

    static Parsed parse(ObjectNode body, ModelCatalog catalog, ServerParameters parameters, Limits limits) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Recipe.FIELDS.contains(f)) {
                throw ApiError.badField(f, "unknown field" + ParameterDeclaration.nearest(f, Recipe.FIELDS)
                        .map(n -> " (did you mean '" + n + "'?)").orElse("") + "; a recipe has " + Recipe.FIELDS
                        + (f.contains("_") ? " (plugin settings go in \"parameters\")" : ""));
            }
        }
        // the recipe's shape and types as core reads them; parameters are this server's business
        Map<String, Object> tree = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : body.properties()) {
            if (!e.getKey().equals("parameters")) {
                tree.put(e.getKey(), JsonFields.MAPPER.convertValue(e.getValue(), Object.class));
            }
        }
        Recipe recipe;
        try {
            recipe = Recipe.of(tree, Path.of(""), "recipe");
        } catch (InvalidRequestException e) {
            Matcher m = FIELD.matcher(e.getMessage());
            throw new ApiError(400, m.find() ? m.group(1) : "body", e.getMessage());
        }
        Map<String, Object> fields = recipe.fields();
        String modelGiven = (String) fields.get("model");
        String model = modelGiven == null ? catalog.defaultModel() : catalog.resolve("model", modelGiven).name();

        GenerationRequest.Builder b = GenerationRequest.builder()
                .setPrompt(recipe.prompt().orElse(""))
                .optNegativePrompt((String) fields.getOrDefault("negative_prompt", ""));
        recipe.seed().ifPresent(seed -> {
            if (seed < 0) {
                throw ApiError.badField("seed", seed + ": expected a seed >= 0, or leave it out for a random one");
            }
            b.optSeed(seed);
        });
        recipe.steps().ifPresent(steps -> {
            if (steps > limits.maxSteps()) {
                throw ApiError.badField("steps", steps + " is out of range; expected 1 to " + limits.maxSteps());
            }
            b.optSteps(steps);
        });
        Double guidance = (Double) fields.get("guidance_scale");
        if (guidance != null) {
            if (guidance > 100) {
                throw ApiError.badField("guidance_scale", guidance + " is out of range; expected 0 to 100");
            }
            b.optGuidanceScale(guidance);
        }
        Integer width = (Integer) fields.get("width");
        Integer height = fields.containsKey("height") ? (Integer) fields.get("height") : width; // as a recipe reads
        for (Map.Entry<String, Integer> e : sizes(width, height).entrySet()) {
            int v = e.getValue();
            if (v < 8 || v > limits.maxSide() || v % 8 != 0) {
                throw ApiError.badField(e.getKey(), v + ": expected a multiple of 8 from 8 to " + limits.maxSide());
            }
        }
        if (width != null && height != null && (long) width * height > limits.maxPixels()) {
            throw ApiError.badField("width", width + "x" + height + " is more than " + limits.maxPixels() + " pixels");
        }
        Optional.ofNullable(width).ifPresent(b::optWidth);
        Optional.ofNullable(height).ifPresent(b::optHeight);
        recipe.scheduler().filter(s -> !s.isBlank()).ifPresent(b::optScheduler);
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) fields.get("scheduler_config");
        Optional.ofNullable(config).ifPresent(b::optSchedulerConfig);
        parameters.values(body.get("parameters"), model, limits).forEach(b::optParameter);
        try {
            return new Parsed(model, b.build());
        } catch (InvalidRequestException e) {
            throw new ApiError(400, null, e.getMessage());
        }
    }

    private static Map<String, Integer> sizes(Integer width, Integer height) {
        Map<String, Integer> m = new LinkedHashMap<>();
        if (width != null) {
            m.put("width", width);
        }
        if (height != null) {
            m.put("height", height);
        }
        return m;
    }
}
