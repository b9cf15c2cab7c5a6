package io.conditio.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.POJONode;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.RgbImage;
import io.conditio.core.parameters.ParameterCatalog;
import io.conditio.core.parameters.ParameterValues;
import io.conditio.core.plugin.PluginHost;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The request parameters this server takes, from the plugins' own declarations (core's {@link ParameterCatalog}):
 * one source for validation, for the JSON Schema that {@code GET /v1/plugins} serves and for the page's controls.
 *
 * <p>What a client may not send is taken out, because a server never reads a path a client names: parameters
 * declared as files or tensors, and {@code lora} and {@code embeddings} (file names in text). Where a plugin takes a model folder
 * ({@code controlnets[].model}, {@code t2i_adapters[].model}), the client names one of the server's folders
 * instead and the schema lists the names. Images arrive as {@code data:} URLs or as multipart parts.
 */
final class ServerParameters {
    /** Group parameters whose {@code model} field names one of the server's folders of this diffusers class. */
    private static final Map<String, String> NAMED_MODELS = Map.of("controlnets", ModelCatalog.CONTROLNET,
            "t2i_adapters", ModelCatalog.T2I_ADAPTER);
    /** Parameters that carry file paths in text, and the prompt syntax that names such files on the server. */
    private static final Map<String, String> PATHS_IN_TEXT = Map.of(
            "lora", "name a LoRA in the prompt as <lora:NAME:SCALE> (looked up in the model's loras/ folder)",
            "embeddings", "name a textual-inversion embedding in the prompt by its file name (looked up in the "
                    + "model's embeddings/ folder)");

    private final PluginHost host;
    private final ModelCatalog models;
    /** The catalog of one view of the plugins, built again when a development plugin was reloaded. */
    private volatile Cached cached;

    private record Cached(PluginHost.View view, ParameterCatalog catalog) {
    }

    ServerParameters(PluginHost host, ModelCatalog models) {
        this.host = host;
        this.models = models;
        this.cached = new Cached(host.view(), ParameterCatalog.of(host.view()));
    }

    /** @return the catalog of the plugins new generations use */
    ParameterCatalog catalog() {
        PluginHost.View now = host.view();
        Cached c = cached;
        if (c.view() != now) {
            c = new Cached(now, ParameterCatalog.of(now));
            cached = c;
        }
        return c.catalog();
    }

    private static boolean carriesPaths(ParameterDeclaration d) {
        return d.type() == ParameterType.FILE || d.type() == ParameterType.TENSOR;
    }

    /**
     * @return the JSON Schema of a recipe's {@code parameters} as this server takes them: the plugins' schema less
     *     what carries paths, folder fields as enums of the server's names, images as data URLs or parts
     */
    Map<String, Object> schema() {
        Map<String, Object> s = catalog().jsonSchema();
        @SuppressWarnings("unchecked")
        Map<String, Object> props = new LinkedHashMap<>((Map<String, Object>) s.get("properties"));
        for (Map.Entry<String, ParameterCatalog.Entry> e : catalog().entries().entrySet()) {
            String key = e.getKey();
            ParameterDeclaration d = e.getValue().declaration();
            if (carriesPaths(d) || PATHS_IN_TEXT.containsKey(key)) {
                props.remove(key);
                continue;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> p = (Map<String, Object>) props.get(key);
            props.put(key, served(key, d, p));
        }
        Map<String, Object> out = new LinkedHashMap<>(s);
        out.put("properties", props);
        out.put("x-conditio-server", "paths are never taken: parameters declared as files or tensors, 'lora' and "
                + "'embeddings' are left out (name LoRAs in the prompt as <lora:NAME:SCALE>, embeddings by their "
                + "file name, from the model's folder); model fields name the server's folders; images are data: "
                + "URLs or multipart/form-data parts named by the parameter");
        return out;
    }

    /** Rewrites one property's schema for this server (recursing into group fields). */
    @SuppressWarnings("unchecked")
    private Map<String, Object> served(String key, ParameterDeclaration d, Map<String, Object> p) {
        Map<String, Object> out = new LinkedHashMap<>(p);
        if (d.type() == ParameterType.IMAGE) {
            Map<String, Object> target = out.containsKey("items") ? new LinkedHashMap<>((Map<String, Object>)
                    out.get("items")) : out;
            target.remove("$comment");
            target.put("contentEncoding", "base64");
            target.put("$comment", "a data:image/png;base64, URL, or a multipart part named by the parameter");
            if (target != out) {
                out.put("items", target);
            }
            return out;
        }
        if (d.type() != ParameterType.GROUP) {
            return out;
        }
        Map<String, Object> item = new LinkedHashMap<>((Map<String, Object>) (d.list() ? out.get("items") : out));
        Map<String, Object> fields = new LinkedHashMap<>((Map<String, Object>) item.get("properties"));
        List<String> required = item.containsKey("required") ? new ArrayList<>((List<String>) item.get("required"))
                : new ArrayList<>();
        for (ParameterDeclaration f : d.fields()) {
            if (NAMED_MODELS.containsKey(key) && f.name().equals("model")) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("type", "string");
                m.put("enum", new ArrayList<>(allNamed(NAMED_MODELS.get(key))));
                m.put("description", "the name of one of this server's folders (GET /v1/models lists them per model)");
                fields.put("model", m);
            } else if (carriesPaths(f)) {
                fields.remove(f.name());
                required.remove(f.name());
            } else {
                fields.put(f.name(), served(key + "." + f.name(), f, (Map<String, Object>) fields.get(f.name())));
            }
        }
        item.put("properties", fields);
        if (required.isEmpty()) {
            item.remove("required");
        } else {
            item.put("required", required);
        }
        if (d.list()) {
            out.put("items", item);
            return out;
        }
        return item;
    }

    private Set<String> allNamed(String className) {
        Set<String> names = new TreeSet<>();
        models.models().keySet().forEach(m -> names.addAll(models.named(m, className).keySet()));
        return names;
    }

    /**
     * @param params the recipe's {@code parameters} (data URLs, or images already decoded from multipart parts)
     * @param model  the model the request runs on, whose folders the model fields name
     * @param limits the image limits
     * @return the request parameters, checked against the declarations
     * @throws ApiError 400 naming the parameter
     */
    Map<String, Object> values(JsonNode params, String model, Limits limits) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (params == null || params.isNull()) {
            return out;
        }
        if (!params.isObject()) {
            throw ApiError.badField("parameters", "expected an object of plugin parameters");
        }
        for (Map.Entry<String, JsonNode> e : params.properties()) {
            String key = e.getKey();
            String field = "parameters." + key;
            ParameterDeclaration d = catalog().declaration(key).orElse(null);
            if (d == null) {
                if (key.startsWith(ParameterCatalog.ANNOTATION_PREFIX)) {
                    continue; // provenance notes are the server's to write
                }
                throw ApiError.badField(field, catalog().unknownKey(key) + "; GET /v1/plugins lists the parameters");
            }
            if (PATHS_IN_TEXT.containsKey(key)) {
                throw ApiError.badField(field, "this server takes no file names from clients; "
                        + PATHS_IN_TEXT.get(key));
            }
            Object plain = plain(field, d, e.getValue(), key, model, limits);
            Object value;
            try {
                value = ParameterValues.fromJson(d, plain, Path.of(""));
            } catch (InvalidRequestException ex) {
                throw ApiError.badField(field, ex.getMessage());
            }
            if (value != null) {
                out.put(key, value);
            }
        }
        try {
            catalog().validate(out);
        } catch (InvalidRequestException ex) {
            throw ApiError.badField("parameters", ex.getMessage());
        }
        return out;
    }

    /**
     * JSON as the plain values {@link ParameterValues#fromJson} reads, where nothing is a path: images decoded,
     * model fields resolved from names, file and tensor fields refused.
     */
    private Object plain(String field, ParameterDeclaration d, JsonNode v, String groupKey, String model,
            Limits limits) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (carriesPaths(d)) {
            throw ApiError.badField(field, "this server takes no paths from clients (" + d.typeText() + ")");
        }
        if (d.list() && v.isArray()) {
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                out.add(item(field + "[" + i + "]", d, v.get(i), groupKey, model, limits));
            }
            return out;
        }
        return item(field, d, v, groupKey, model, limits);
    }

    private Object item(String field, ParameterDeclaration d, JsonNode v, String groupKey, String model,
            Limits limits) {
        if (v instanceof POJONode pojo && pojo.getPojo() instanceof RgbImage uploaded) {
            return uploaded;
        }
        switch (d.type()) {
            case IMAGE -> {
                if (!v.isTextual() || !v.asText().startsWith("data:")) {
                    throw ApiError.badField(field, "expected an image as a data:image/png;base64, URL or a multipart "
                            + "part; this server reads no paths");
                }
                return ImageData.decode(field, v.asText(), limits);
            }
            case GROUP -> {
                if (!v.isObject()) {
                    throw ApiError.badField(field, "expected an object with the fields " + fieldNames(d));
                }
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : v.properties()) {
                    String name = e.getKey();
                    String where = field + "." + name;
                    if (NAMED_MODELS.containsKey(groupKey) && name.equals("model")) {
                        if (!e.getValue().isTextual()) {
                            throw ApiError.badField(where, "expected the name of one of the server's folders: "
                                    + models.named(model, NAMED_MODELS.get(groupKey)).keySet());
                        }
                        out.put(name, models.namedFolder(model, NAMED_MODELS.get(groupKey), e.getValue().asText(),
                                where));
                        continue;
                    }
                    ParameterDeclaration f = d.field(name).orElse(null);
                    if (f == null) {
                        throw ApiError.badField(where, "unknown field; the fields are " + fieldNames(d));
                    }
                    out.put(name, plain(where, f, e.getValue(), groupKey, model, limits));
                }
                return out;
            }
            default -> {
                return JsonFields.MAPPER.convertValue(v, Object.class);
            }
        }
    }

    private static List<String> fieldNames(ParameterDeclaration d) {
        return d.fields().stream().filter(f -> !carriesPaths(f) || f.name().equals("model"))
                .map(ParameterDeclaration::name).toList();
    }
}
