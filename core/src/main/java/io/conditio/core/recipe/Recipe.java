package io.conditio.core.recipe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.ParameterDeclaration;
import io.conditio.core.json.Json;
import io.conditio.core.parameters.ParameterCatalog;
import io.conditio.core.parameters.ParameterValues;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A generation described as data: a JSON (or YAML) object with the fields {@code id, model, prompt, negative_prompt,
 * seed, steps, guidance_scale, width, height, scheduler, scheduler_config, parameters}, all optional. Swapping a
 * conditioning method, a scheduler or a seed is an edit to the file.
 *
 * <pre>{@code
 * {"model": "../../models/shapes", "prompt": "a red circle", "seed": 7, "steps": 20, "scheduler": "euler-a",
 *  "parameters": {"controlnets": [{"model": "../../models/shapes/controlnet",
 *                                  "image": "../examples/control-triangle-bottom-right.png", "scale": 0.8}]}}
 * }</pre>
 *
 * <p>{@code parameters} holds request parameters as the plugins declare them ({@link ParameterCatalog}); its values
 * are JSON: images, files and tensors are paths relative to the recipe's folder, images also {@code data:} URIs. A
 * recipe is validated twice: its shape when it is read (unknown fields are errors naming the nearest field), its
 * parameters against the catalog when it becomes a request ({@link #toRequest}). This is also the line format of the
 * Spark job's requests file.
 *
 * <p>Immutable; {@code withX} returns a changed copy (how command-line flags override a recipe).
 */
public final class Recipe {
    /** The fields, in the order they are written. */
    public static final List<String> FIELDS = List.of("id", "model", "prompt", "negative_prompt", "seed", "steps",
            "guidance_scale", "width", "height", "scheduler", "scheduler_config", "parameters");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final Map<String, Object> fields;
    private final Path base;

    private Recipe(Map<String, Object> fields, Path base) {
        this.fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        this.base = base.toAbsolutePath().normalize();
    }

    /** @return an empty recipe whose relative paths resolve against the working directory */
    public static Recipe empty() {
        return new Recipe(Map.of(), Path.of(""));
    }

    /**
     * Reads a recipe file: YAML when its name ends in {@code .yaml} or {@code .yml}, JSON otherwise.
     *
     * @param file the file
     * @return the recipe; relative paths in it resolve against the file's folder
     * @throws InvalidRequestException naming the file and what is wrong
     */
    public static Recipe read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidRequestException("recipe " + file + ": no such file");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        Object tree;
        try {
            if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                tree = YAML.readValue(file.toFile(), Object.class);
            } else {
                tree = Json.parse(file);
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidRequestException r) {
                throw new InvalidRequestException("recipe " + file + ": " + r.getMessage(), r);
            }
            throw new InvalidRequestException("recipe " + file + " is not valid " + (name.endsWith(".json") ? "JSON"
                    : "JSON or YAML") + ": " + e.getMessage());
        }
        Path folder = file.toAbsolutePath().getParent();
        return of(tree, folder, "recipe " + file);
    }

    /**
     * @param json a JSON object (one line of a requests file, a request body)
     * @param base the folder relative paths resolve against
     * @return the recipe
     * @throws InvalidRequestException saying what is wrong
     */
    public static Recipe parse(String json, Path base) {
        Object tree;
        try {
            tree = Json.parse(json);
        } catch (RuntimeException e) {
            throw new InvalidRequestException("recipe is not valid JSON: " + e.getMessage());
        }
        return of(tree, base, "recipe");
    }

    /**
     * @param tree  a parsed JSON or YAML object
     * @param base  the folder relative paths resolve against
     * @param where what the recipe is, for messages
     * @return the recipe
     * @throws InvalidRequestException naming the field that is wrong and what it must be
     */
    public static Recipe of(Object tree, Path base, String where) {
        if (!(tree instanceof Map<?, ?> map)) {
            throw new InvalidRequestException(where + ": expected an object with fields " + FIELDS + ", got "
                    + Json.typeName(tree));
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (!FIELDS.contains(key)) {
                throw new InvalidRequestException(where + ": unknown field '" + key + "'"
                        + ParameterDeclaration.nearest(key, FIELDS).map(n -> " (did you mean '" + n + "'?)")
                                .orElse("") + "; the fields are " + FIELDS
                        + (key.contains("_") ? " (plugin settings go in \"parameters\")" : ""));
            }
            if (e.getValue() != null) {
                fields.put(key, checked(key, e.getValue(), where));
            }
        }
        return new Recipe(fields, base);
    }

    private static Object checked(String key, Object v, String where) {
        String at = where + ": '" + key + "'";
        switch (key) {
            case "id", "model", "prompt", "negative_prompt", "scheduler" -> {
                if (!(v instanceof String)) {
                    throw new InvalidRequestException(at + " must be text, got " + Json.typeName(v));
                }
                return v;
            }
            case "seed", "steps", "width", "height" -> {
                if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                        || Double.isInfinite(n.doubleValue())) {
                    throw new InvalidRequestException(at + " must be an integer, got " + Json.typeName(v) + " " + v);
                }
                long l = n.longValue();
                if (!key.equals("seed") && (l < 1 || l > Integer.MAX_VALUE)) {
                    throw new InvalidRequestException(at + " must be a positive integer, got " + l);
                }
                return key.equals("seed") ? (Object) l : (Object) (int) l;
            }
            case "guidance_scale" -> {
                if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue()) || n.doubleValue() < 0) {
                    throw new InvalidRequestException(at + " must be a finite number >= 0, got " + v);
                }
                return n.doubleValue();
            }
            case "scheduler_config", "parameters" -> {
                if (!(v instanceof Map<?, ?> m)) {
                    throw new InvalidRequestException(at + " must be an object, got " + Json.typeName(v));
                }
                Map<String, Object> copy = new LinkedHashMap<>();
                m.forEach((k, x) -> copy.put(String.valueOf(k), x));
                return Collections.unmodifiableMap(copy);
            }
            default -> throw new IllegalStateException(key);
        }
    }

    /** @return the folder relative paths resolve against (the recipe file's folder) */
    public Path base() {
        return base;
    }

    /** @return the fields that are set, in the order given; unmodifiable */
    public Map<String, Object> fields() {
        return fields;
    }

    /** @return the id, if set */
    public Optional<String> id() {
        return Optional.ofNullable((String) fields.get("id"));
    }

    /** @return the model folder, resolved against {@link #base()}, if set */
    public Optional<Path> model() {
        return Optional.ofNullable((String) fields.get("model")).map(m -> base.resolve(m).normalize());
    }

    /** @return the prompt, if set */
    public Optional<String> prompt() {
        return Optional.ofNullable((String) fields.get("prompt"));
    }

    /** @return the seed, if set */
    public Optional<Long> seed() {
        return Optional.ofNullable((Long) fields.get("seed"));
    }

    /** @return the steps, if set */
    public Optional<Integer> steps() {
        return Optional.ofNullable((Integer) fields.get("steps"));
    }

    /** @return the scheduler, if set */
    public Optional<String> scheduler() {
        return Optional.ofNullable((String) fields.get("scheduler"));
    }

    /** @return the parameters as JSON values (paths not yet resolved); unmodifiable, never null */
    @SuppressWarnings("unchecked")
    public Map<String, Object> parameters() {
        Object p = fields.get("parameters");
        return p == null ? Map.of() : (Map<String, Object>) p;
    }

    /**
     * @param field one of {@link #FIELDS}
     * @param value its new value as JSON (a String, Number, Map ...), or null to remove it
     * @return a copy with the field replaced
     * @throws InvalidRequestException when the value does not fit the field
     */
    public Recipe with(String field, Object value) {
        if (!FIELDS.contains(field)) {
            throw new IllegalArgumentException("not a recipe field: " + field);
        }
        Map<String, Object> f = new LinkedHashMap<>(fields);
        if (value == null) {
            f.remove(field);
        } else {
            f.put(field, checked(field, value, "override"));
        }
        return new Recipe(f, base);
    }

    /**
     * @param key   a parameter key
     * @param value its JSON value, or null to remove it
     * @return a copy with the parameter replaced
     */
    public Recipe withParameter(String key, Object value) {
        Map<String, Object> p = new LinkedHashMap<>(parameters());
        if (value == null) {
            p.remove(key);
        } else {
            p.put(key, value);
        }
        return with("parameters", p);
    }

    /**
     * A setting by name as text, for sweeps and grids: a recipe field ({@code seed=3}, {@code scheduler=ddim}) or,
     * otherwise, a parameter ({@code strength=0.5}, typed by the catalog's declaration).
     *
     * @param key     a field or a declared parameter
     * @param text    the value as typed
     * @param catalog the declarations
     * @return a copy with the setting replaced
     * @throws InvalidRequestException for a key that is neither, with the nearest name
     */
    public Recipe withSetting(String key, String text, ParameterCatalog catalog) {
        switch (key) {
            case "id", "model", "prompt", "negative_prompt", "scheduler" -> {
                return with(key, text);
            }
            case "seed", "steps", "width", "height" -> {
                try {
                    return with(key, Long.parseLong(text.strip()));
                } catch (NumberFormatException e) {
                    throw new InvalidRequestException("'" + key + "' must be an integer, got '" + text + "'");
                }
            }
            case "guidance_scale" -> {
                try {
                    return with(key, Double.parseDouble(text.strip()));
                } catch (NumberFormatException e) {
                    throw new InvalidRequestException("'" + key + "' must be a number, got '" + text + "'");
                }
            }
            default -> {
                ParameterDeclaration d = catalog.declaration(key).orElseThrow(() -> {
                    List<String> known = new ArrayList<>(FIELDS);
                    known.addAll(catalog.entries().keySet());
                    return new InvalidRequestException("unknown setting '" + key + "'"
                            + ParameterDeclaration.nearest(key, known).map(n -> " (did you mean '" + n + "'?)")
                                    .orElse("") + "; recipe fields are " + FIELDS + ", parameters are "
                            + catalog.entries().keySet());
                });
                return withParameter(key, textToJson(d, text));
            }
        }
    }

    private static Object textToJson(ParameterDeclaration d, String text) {
        if (d.type() == io.conditio.api.ParameterType.GROUP || text.strip().startsWith("[")) {
            return Json.parse(text);
        }
        Object v = ParameterValues.fromText(d, text, Path.of(""));
        return v instanceof Path ? text : v;
    }

    /**
     * The generation request: fields as the CLI flags of the same names, parameters converted by their declarations
     * (paths resolved against {@link #base()}; an image path is also recorded as {@code source.KEY} for the
     * provenance) and validated against the catalog.
     *
     * @param catalog the declarations of the host that will run it
     * @return a builder holding the request, to add callbacks or a time limit
     * @throws InvalidRequestException for an unknown parameter (with the nearest name and the known keys) or a
     *     value of the wrong type or out of range
     */
    public GenerationRequest.Builder toRequestBuilder(ParameterCatalog catalog) {
        GenerationRequest.Builder b = GenerationRequest.builder();
        prompt().ifPresent(b::setPrompt);
        Optional.ofNullable((String) fields.get("negative_prompt")).ifPresent(b::optNegativePrompt);
        seed().ifPresent(b::optSeed);
        steps().ifPresent(b::optSteps);
        Optional.ofNullable((Double) fields.get("guidance_scale")).ifPresent(b::optGuidanceScale);
        Integer width = (Integer) fields.get("width");
        Integer height = (Integer) fields.get("height");
        if (width != null) {
            b.optWidth(width);
            b.optHeight(height == null ? width : height);
        } else if (height != null) {
            b.optHeight(height);
        }
        scheduler().ifPresent(b::optScheduler);
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) fields.get("scheduler_config");
        if (config != null) {
            b.optSchedulerConfig(config);
        }
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, Object> p : parameters().entrySet()) {
            String key = p.getKey();
            Optional<ParameterDeclaration> d = catalog.declaration(key);
            if (d.isPresent()) {
                b.optParameter(key, ParameterValues.fromJson(d.get(), p.getValue(), base));
                if (d.get().type() == io.conditio.api.ParameterType.IMAGE && !d.get().list()
                        && p.getValue() instanceof String s && !s.startsWith("data:")) {
                    b.optParameter(ParameterCatalog.ANNOTATION_PREFIX + key, s);
                }
            } else if (key.startsWith(ParameterCatalog.ANNOTATION_PREFIX) || !catalog.undeclaredOwners().isEmpty()) {
                b.optParameter(key, undeclared(p.getValue()));
            } else {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            throw new InvalidRequestException(String.join("; ", unknown.stream().map(catalog::unknownKey).toList())
                    .replace("unknown request parameter", "unknown recipe parameter")
                    + "; the known parameters are: " + String.join(", ", catalog.entries().keySet()));
        }
        return b;
    }

    /**
     * @param catalog the declarations of the host that will run it
     * @return the validated request
     * @throws InvalidRequestException as {@link #toRequestBuilder}
     */
    public GenerationRequest toRequest(ParameterCatalog catalog) {
        GenerationRequest r = toRequestBuilder(catalog).build();
        catalog.validate(r.parameters());
        return r;
    }

    /** JSON values for a key nobody declares (a plugin built against SPI 0.1.0 reads it): numbers as --param. */
    private static Object undeclared(Object v) {
        if (v instanceof Number n && !(v instanceof Double || v instanceof Float)) {
            return n.longValue();
        }
        if (v instanceof Float f) {
            return f.doubleValue();
        }
        return v;
    }

    /** @return the recipe as JSON text, fields in {@link #FIELDS} order */
    public String toJson() {
        return Json.writePretty(ordered());
    }

    /** @return the fields in {@link #FIELDS} order, as JSON values */
    public Map<String, Object> ordered() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String f : FIELDS) {
            if (fields.containsKey(f)) {
                out.put(f, fields.get(f));
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return Json.write(ordered());
    }
}
