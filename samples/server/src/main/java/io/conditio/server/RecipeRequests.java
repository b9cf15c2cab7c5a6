package io.conditio.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A recipe-shaped JSON body ({@code model, prompt, negative_prompt, seed, steps, guidance_scale, width, height,
 * scheduler, scheduler_config, parameters}) as a {@link GenerationRequest}. Images in {@code parameters} arrive as
 * {@code data:image/...;base64,} URLs or as multipart parts ({@link Uploads}); a ControlNet names one of the server's
 * ControlNets, never a path.
 */
final class RecipeRequests {
    private static final java.util.Set<String> KEYS = java.util.Set.of("id", "model", "prompt", "negative_prompt",
            "seed", "steps", "guidance_scale", "width", "height", "scheduler", "scheduler_config", "parameters");

    /** The model a recipe names and its request. */
    record Parsed(String model, GenerationRequest request) {
    }

    private RecipeRequests() {
    }

    static Parsed parse(ObjectNode body, ModelCatalog catalog, Limits limits) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!KEYS.contains(f)) {
                throw ApiError.badField(f, "unknown field; a recipe has " + new java.util.TreeSet<>(KEYS));
            }
        }
        String modelGiven = JsonFields.text(body, "model", null);
        String model = modelGiven == null ? catalog.defaultModel() : catalog.resolve("model", modelGiven).name();
        GenerationRequest.Builder b = GenerationRequest.builder()
                .setPrompt(JsonFields.text(body, "prompt", ""))
                .optNegativePrompt(JsonFields.text(body, "negative_prompt", ""));
        Long seed = JsonFields.longValue(body, "seed", null);
        if (seed != null) {
            if (seed < 0) {
                throw ApiError.badField("seed", seed + ": expected a seed >= 0, or leave it out for a random one");
            }
            b.optSeed(seed);
        }
        Integer steps = JsonFields.integer(body, "steps", null);
        if (steps != null) {
            if (steps < 1 || steps > limits.maxSteps()) {
                throw ApiError.badField("steps", steps + " is out of range; expected 1 to " + limits.maxSteps());
            }
            b.optSteps(steps);
        }
        Double guidance = JsonFields.number(body, "guidance_scale", null);
        if (guidance != null) {
            if (guidance < 0 || guidance > 100) {
                throw ApiError.badField("guidance_scale", guidance + " is out of range; expected 0 to 100");
            }
            b.optGuidanceScale(guidance);
        }
        Integer width = JsonFields.integer(body, "width", null);
        Integer height = JsonFields.integer(body, "height", null);
        for (Map.Entry<String, Integer> e : sizes(width, height).entrySet()) {
            int v = e.getValue();
            if (v < 8 || v > limits.maxSide() || v % 8 != 0) {
                throw ApiError.badField(e.getKey(), v + ": expected a multiple of 8 from 8 to " + limits.maxSide());
            }
        }
        if (width != null && height != null && (long) width * height > limits.maxPixels()) {
            throw ApiError.badField("width", width + "x" + height + " is more than " + limits.maxPixels() + " pixels");
        }
        if (width != null) {
            b.optWidth(width);
        }
        if (height != null) {
            b.optHeight(height);
        }
        String scheduler = JsonFields.text(body, "scheduler", null);
        if (scheduler != null && !scheduler.isBlank()) {
            b.optScheduler(scheduler);
        }
        JsonNode config = body.get("scheduler_config");
        if (config != null && !config.isNull()) {
            if (!config.isObject()) {
                throw ApiError.badField("scheduler_config", "expected an object of diffusers scheduler config keys");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = JsonFields.MAPPER.convertValue(config, Map.class);
            b.optSchedulerConfig(m);
        }
        JsonNode params = body.get("parameters");
        if (params != null && !params.isNull()) {
            if (!params.isObject()) {
                throw ApiError.badField("parameters", "expected an object of plugin parameters");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = params.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String key = e.getKey();
                Object value = key.equals("controlnets")
                        ? controlNets(e.getValue(), model, catalog, limits)
                        : value("parameters." + key, e.getValue(), limits);
                b.optParameter(key, value);
            }
        }
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

    private static List<Map<String, Object>> controlNets(JsonNode v, String model, ModelCatalog catalog,
            Limits limits) {
        if (!v.isArray()) {
            throw ApiError.badField("parameters.controlnets", "expected a list of {model, image, scale, start, end, "
                    + "guess_mode, preprocess}");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            String where = "parameters.controlnets[" + i + "]";
            JsonNode unit = v.get(i);
            if (!unit.isObject()) {
                throw ApiError.badField(where, "expected an object");
            }
            Map<String, Object> m = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = unit.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("model")) {
                    if (!e.getValue().isTextual()) {
                        throw ApiError.badField(where + ".model", "expected the name of one of the server's "
                                + "ControlNets: " + catalog.controlNets(model).keySet());
                    }
                    m.put("model", catalog.controlNet(model, e.getValue().asText(), where + ".model"));
                } else {
                    m.put(e.getKey(), value(where + "." + e.getKey(), e.getValue(), limits));
                }
            }
            out.add(m);
        }
        return out;
    }

    /** JSON as request values: integers as Long, decimals as Double, data URLs as images. */
    static Object value(String field, JsonNode v, Limits limits) {
        if (v instanceof POJONode pojo && pojo.getPojo() instanceof RgbImage uploaded) {
            return uploaded; // a multipart upload, decoded and checked already
        }
        if (v.isTextual() && v.asText().startsWith("data:image/")) {
            return ImageData.decode(field, v.asText(), limits);
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isIntegralNumber()) {
            return v.asLong();
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        if (v.isArray()) {
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                out.add(value(field + "[" + i + "]", v.get(i), limits));
            }
            return out;
        }
        if (v.isObject()) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                out.put(e.getKey(), value(field + "." + e.getKey(), e.getValue(), limits));
            }
            return out;
        }
        return null;
    }
}
