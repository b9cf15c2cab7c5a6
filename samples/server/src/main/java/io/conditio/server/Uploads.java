package io.conditio.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import io.conditio.api.RgbImage;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A native request as {@code multipart/form-data}: a part {@code recipe} holds the recipe's JSON (as a form field or
 * a file), and each image is a file part named by its place among the recipe's parameters, e.g. {@code init_image},
 * {@code mask_image} or {@code controlnets[0].image} (a leading {@code parameters.} is allowed). The images go into
 * the recipe decoded, so a client sends image bytes and names, never a path on the server.
 *
 * <pre>{@code
 * curl -F 'recipe={"prompt": "a red circle", "parameters": {"strength": 0.6}}' -F init_image=@photo.png \
 *     http://127.0.0.1:7860/v1/generations
 * }</pre>
 */
final class Uploads {
    /** The recipe part's name. */
    static final String RECIPE = "recipe";

    private static final Pattern SEGMENT = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)(?:\\[(\\d{1,3})])?");

    private Uploads() {
    }

    /**
     * @param ctx    a multipart request
     * @param limits the size limits for the images
     * @return the recipe with its uploaded images in place
     */
    static ObjectNode recipe(Context ctx, Limits limits) {
        Map<String, List<UploadedFile>> files = ctx.uploadedFileMap(); // parses the parts (in memory)
        Map<String, List<String>> fields = new java.util.LinkedHashMap<>();
        try {
            for (jakarta.servlet.http.Part part : ctx.req().getParts()) {
                if (part.getSubmittedFileName() == null) {
                    try (InputStream in = part.getInputStream()) {
                        fields.computeIfAbsent(part.getName(), k -> new java.util.ArrayList<>())
                                .add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    }
                }
            }
        } catch (IOException | jakarta.servlet.ServletException e) {
            throw new ApiError(400, "body", "body: not a readable multipart/form-data request (" + e.getMessage()
                    + ")");
        }
        for (String name : fields.keySet()) {
            if (!name.equals(RECIPE)) {
                throw ApiError.badField(name, "a multipart request has one text part, '" + RECIPE + "' (the recipe's "
                        + "JSON); images are file parts named by their parameter, e.g. init_image");
            }
        }
        String json;
        if (fields.containsKey(RECIPE)) {
            one(RECIPE, fields.get(RECIPE).size());
            json = fields.get(RECIPE).get(0);
        } else if (files.containsKey(RECIPE)) {
            one(RECIPE, files.get(RECIPE).size());
            json = new String(read(RECIPE, files.get(RECIPE).get(0)), StandardCharsets.UTF_8);
        } else {
            json = "{}";
        }
        ObjectNode recipe;
        try {
            recipe = JsonFields.parseObject(json);
        } catch (ApiError e) {
            throw ApiError.badField(RECIPE, e.getMessage());
        }
        for (Map.Entry<String, List<UploadedFile>> e : files.entrySet()) {
            String name = e.getKey();
            if (name.equals(RECIPE)) {
                continue;
            }
            one(name, e.getValue().size());
            String path = name.startsWith("parameters.") ? name.substring("parameters.".length()) : name;
            String field = "parameters." + path;
            RgbImage image = ImageData.decode(field, read(field, e.getValue().get(0)), limits);
            place(recipe, path, field, image);
        }
        return recipe;
    }

    private static void one(String name, int count) {
        if (count != 1) {
            throw ApiError.badField(name, count + " parts with this name; expected one");
        }
    }

    private static byte[] read(String field, UploadedFile file) {
        try (InputStream in = file.content()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the part " + field + ": " + e.getMessage(), e);
        }
    }

    /** Puts the image at {@code path} (segments {@code name} or {@code name[i]}, joined by dots) in parameters. */
    private static void place(ObjectNode recipe, String path, String field, RgbImage image) {
        JsonNode params = recipe.get("parameters");
        if (params == null || params.isNull()) {
            params = recipe.putObject("parameters");
        } else if (!params.isObject()) {
            throw ApiError.badField("parameters", "expected an object of plugin parameters");
        }
        String[] segments = path.split("\\.", -1);
        ObjectNode at = (ObjectNode) params;
        for (int s = 0; s < segments.length; s++) {
            Matcher m = SEGMENT.matcher(segments[s]);
            if (!m.matches()) {
                throw ApiError.badField(field, "not a parameter path; expected names like init_image or "
                        + "controlnets[0].image");
            }
            String key = m.group(1);
            boolean last = s == segments.length - 1;
            if (m.group(2) == null) {
                if (last) {
                    if (at.has(key) && !at.get(key).isNull()) {
                        throw ApiError.badField(field, "given both in the recipe and as a part");
                    }
                    at.set(key, new POJONode(image));
                    return;
                }
                JsonNode next = at.get(key);
                if (next == null || next.isNull()) {
                    next = at.putObject(key);
                } else if (!next.isObject()) {
                    throw ApiError.badField(field, "'" + key + "' in the recipe is not an object");
                }
                at = (ObjectNode) next;
                continue;
            }
            int index = Integer.parseInt(m.group(2));
            JsonNode list = at.get(key);
            if (list == null || list.isNull()) {
                list = at.putArray(key);
            } else if (!list.isArray()) {
                throw ApiError.badField(field, "'" + key + "' in the recipe is not a list");
            }
            ArrayNode array = (ArrayNode) list;
            if (index > array.size()) {
                throw ApiError.badField(field, "index " + index + " but '" + key + "' has " + array.size()
                        + " entries");
            }
            if (last) {
                if (index < array.size()) {
                    throw ApiError.badField(field, "given both in the recipe and as a part");
                }
                array.add(new POJONode(image));
                return;
            }
            if (index == array.size()) {
                array.addObject();
            }
            if (!array.get(index).isObject()) {
                throw ApiError.badField(field, "'" + key + "[" + index + "]' in the recipe is not an object");
            }
            at = (ObjectNode) array.get(index);
        }
    }
}
