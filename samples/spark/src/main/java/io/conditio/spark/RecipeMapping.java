package io.conditio.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.core.image.PngImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One recipe-shaped JSON request to a {@link GenerationRequest}, the way {@code conditio generate} builds it from its
 * flags: {@code id, model, prompt, negative_prompt, seed, steps, guidance_scale, width, height, scheduler,
 * scheduler_config, parameters}. Integral numbers become {@code Long}, others {@code Double} (as {@code --param}
 * types them); image parameters ({@code init_image}, {@code mask_image}, a ControlNet's {@code image}) are paths
 * relative to the requests file's folder or {@code data:} URIs and are read as the CLI reads its image flags; a
 * ControlNet's {@code model} is a path resolved the same way.
 */
final class RecipeMapping {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Set<String> KEYS = Set.of("id", "model", "prompt", "negative_prompt", "seed", "steps",
            "guidance_scale", "width", "height", "scheduler", "scheduler_config", "parameters");
    private static final Set<String> IMAGE_PARAMETERS = Set.of("init_image", "mask_image");

    /**
     * A request ready to run.
     *
     * @param model   the request's own model folder, if it names one
     * @param request the generation request
     */
    record Target(Optional<Path> model, GenerationRequest request) {
    }

    private RecipeMapping() {
    }

    /**
     * Parses one line and checks its shape (on the driver, so malformed lines are reported before any work).
     *
     * @param line a JSON object
     * @return the object
     * @throws InvalidRequestException saying what is wrong
     */
    static ObjectNode parse(String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("not JSON: " + e.getOriginalMessage());
        }
        if (!(node instanceof ObjectNode o)) {
            throw new InvalidRequestException("expected a JSON object, got " + (node == null ? "nothing"
                    : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) {
                throw new InvalidRequestException("unknown key '" + k + "'; the keys are "
                        + KEYS.stream().sorted().toList());
            }
        }
        integer(o, "steps");
        integer(o, "width");
        integer(o, "height");
        integer(o, "seed");
        number(o, "guidance_scale");
        text(o, "prompt");
        text(o, "negative_prompt");
        text(o, "scheduler");
        text(o, "model");
        object(o, "scheduler_config");
        object(o, "parameters");
        return o;
    }

    /**
     * Builds the generation request (on the executor: images are read here).
     *
     * @param request the batch request
     * @return the model override and the request
     */
    static Target toRequest(BatchRequest request) {
        ObjectNode o = parse(request.json());
        Path base = Path.of(request.baseDir());
        GenerationRequest.Builder b = GenerationRequest.builder()
                .setPrompt(o.path("prompt").asText(""))
                .optNegativePrompt(o.path("negative_prompt").asText(""));
        if (o.hasNonNull("guidance_scale")) {
            b.optGuidanceScale(o.get("guidance_scale").asDouble());
        }
        if (o.hasNonNull("steps")) {
            b.optSteps(o.get("steps").asInt());
        }
        if (o.hasNonNull("seed")) {
            b.optSeed(o.get("seed").asLong());
        }
        if (o.hasNonNull("width")) {
            b.optWidth(o.get("width").asInt());
        }
        if (o.hasNonNull("height")) {
            b.optHeight(o.get("height").asInt());
        } else if (o.hasNonNull("width")) {
            b.optHeight(o.get("width").asInt());
        }
        if (o.hasNonNull("scheduler")) {
            b.optScheduler(o.get("scheduler").asText());
        }
        if (o.hasNonNull("scheduler_config")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> config = (Map<String, Object>) value(o.get("scheduler_config"));
            b.optSchedulerConfig(config);
        }
        if (o.hasNonNull("parameters")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.get("parameters").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String key = e.getKey();
                if (IMAGE_PARAMETERS.contains(key)) {
                    String source = e.getValue().asText();
                    b.optParameter(key, image(base, source, "parameters." + key));
                    b.optParameter("source." + key, source);
                } else if (key.equals("controlnets")) {
                    b.optParameter(key, controlnets(base, e.getValue()));
                } else {
                    b.optParameter(key, value(e.getValue()));
                }
            }
        }
        Optional<Path> model = o.hasNonNull("model") ? Optional.of(base.resolve(o.get("model").asText()))
                : Optional.empty();
        return new Target(model, b.build());
    }

    private static List<Object> controlnets(Path base, JsonNode list) {
        if (!list.isArray()) {
            throw new InvalidRequestException("parameters.controlnets: expected a list of objects (one per "
                    + "ControlNet), got " + list);
        }
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode c = list.get(i);
            if (!c.isObject()) {
                throw new InvalidRequestException("parameters.controlnets[" + i + "]: expected an object, got " + c);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) value(c));
            if (m.get("model") instanceof String s) {
                m.put("model", base.resolve(s));
            }
            if (m.get("image") instanceof String s) {
                m.put("image", image(base, s, "parameters.controlnets[" + i + "].image"));
            }
            out.add(m);
        }
        return out;
    }

    private static RgbImage image(Path base, String source, String where) {
        if (source.startsWith("data:")) {
            int comma = source.indexOf(',');
            if (comma < 0 || !source.substring(0, comma).endsWith(";base64")) {
                throw new InvalidRequestException(where + ": a data URI must be base64 (data:image/png;base64,...)");
            }
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(source.substring(comma + 1));
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(where + ": bad base64 in the data URI: " + e.getMessage());
            }
            try {
                Path tmp = Files.createTempFile("conditio-data-uri", ".img");
                try {
                    Files.write(tmp, bytes);
                    return PngImages.read(tmp);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return PngImages.read(base.resolve(source));
    }

    /** JSON to the types the CLI hands plugins: Long, Double, Boolean, String, List, Map. */
    static Object value(JsonNode n) {
        if (n.isIntegralNumber()) {
            return n.asLong();
        }
        if (n.isNumber()) {
            return n.asDouble();
        }
        if (n.isBoolean()) {
            return n.asBoolean();
        }
        if (n.isTextual()) {
            return n.asText();
        }
        if (n.isArray()) {
            List<Object> out = new ArrayList<>();
            n.forEach(x -> out.add(value(x)));
            return out;
        }
        if (n.isObject()) {
            Map<String, Object> out = new LinkedHashMap<>();
            n.fields().forEachRemaining(e -> out.put(e.getKey(), value(e.getValue())));
            return out;
        }
        return null;
    }

    private static void integer(ObjectNode o, String key) {
        JsonNode n = o.get(key);
        if (n != null && !n.isNull() && !n.isIntegralNumber()) {
            throw new InvalidRequestException("'" + key + "' must be an integer, got " + n);
        }
    }

    private static void number(ObjectNode o, String key) {
        JsonNode n = o.get(key);
        if (n != null && !n.isNull() && !n.isNumber()) {
            throw new InvalidRequestException("'" + key + "' must be a number, got " + n);
        }
    }

    private static void text(ObjectNode o, String key) {
        JsonNode n = o.get(key);
        if (n != null && !n.isNull() && !n.isTextual()) {
            throw new InvalidRequestException("'" + key + "' must be a string, got " + n);
        }
    }

    private static void object(ObjectNode o, String key) {
        JsonNode n = o.get(key);
        if (n != null && !n.isNull() && !n.isObject()) {
            throw new InvalidRequestException("'" + key + "' must be an object, got " + n);
        }
    }
}
