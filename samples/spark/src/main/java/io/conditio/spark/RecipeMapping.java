package io.conditio.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conditio.api.InvalidRequestException;
import io.conditio.core.recipe.Recipe;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A requests-file line is a {@link Recipe} ({@code id, model, prompt, negative_prompt, seed, steps, guidance_scale,
 * width, height, scheduler, scheduler_config, parameters}): its shape is checked on the driver, so malformed lines
 * are reported before any work, and it becomes a generation request on the executor, where its parameters are
 * typed and validated by the declarations of the plugins loaded there and its images are read (paths relative to the
 * requests file's folder, or {@code data:} URIs), exactly as {@code conditio generate --recipe} does.
 */
final class RecipeMapping {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Set<String> KEYS = new LinkedHashSet<>(Recipe.FIELDS);

    private RecipeMapping() {
    }

    /**
     * Parses one line and checks that it is a recipe.
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
        try {
            Recipe.of(JSON.treeToValue(o, Object.class), Path.of(""), "request");
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("not JSON: " + e.getOriginalMessage());
        }
        return o;
    }

    /**
     * @param request the batch request
     * @return its recipe, relative paths resolving against the requests file's folder
     */
    static Recipe recipe(BatchRequest request) {
        // its shape was checked on the driver; read it once more, as the recipe it is
        return Recipe.parse(request.json(), Path.of(request.baseDir()));
    }
}
