package io.conditio.core.parameters;

import io.conditio.api.ParameterDeclaration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON Schema (draft 2020-12) of one declaration, for the JSON form of a value (what a recipe holds). */
final class JsonSchemas {
    private JsonSchemas() {
    }

    static Map<String, Object> of(ParameterDeclaration d) {
        Map<String, Object> item = item(d);
        Map<String, Object> s;
        if (d.list()) {
            s = new LinkedHashMap<>();
            s.put("type", "array");
            s.put("items", item);
            if (d.minItems() > 0) {
                s.put("minItems", d.minItems());
            }
            if (d.maxItems() != Integer.MAX_VALUE) {
                s.put("maxItems", d.maxItems());
            }
            if (d.singleAllowed()) {
                Map<String, Object> array = s;
                s = new LinkedHashMap<>();
                s.put("anyOf", List.of(item(d), array));
            }
        } else {
            s = item;
        }
        Map<String, Object> out = s;
        out.put("description", d.description());
        d.defaultValue().ifPresent(v -> out.put("default", v));
        out.put("x-conditio-type", d.typeText());
        return out;
    }

    private static Map<String, Object> item(ParameterDeclaration d) {
        Map<String, Object> s = new LinkedHashMap<>();
        switch (d.type()) {
            case NUMBER, INTEGER -> {
                s.put("type", d.type().label());
                d.minimum().ifPresent(m -> s.put(d.minimumInclusive() ? "minimum" : "exclusiveMinimum", m));
                d.maximum().ifPresent(m -> s.put(d.maximumInclusive() ? "maximum" : "exclusiveMaximum", m));
            }
            case BOOLEAN -> s.put("type", "boolean");
            case STRING -> s.put("type", "string");
            case ENUM -> {
                s.put("type", "string");
                s.put("enum", d.allowedValues());
            }
            case IMAGE -> {
                s.put("type", "string");
                s.put("contentMediaType", "image/png");
                s.put("$comment", "a path (relative to the recipe file) or a data: URI");
            }
            case FILE -> {
                s.put("type", "string");
                s.put("$comment", "a path, relative to the recipe file");
            }
            case TENSOR -> {
                s.put("type", "string");
                s.put("$comment", "a NumPy .npy file, relative to the recipe file");
            }
            case GROUP -> {
                s.put("type", "object");
                Map<String, Object> props = new LinkedHashMap<>();
                List<String> required = new ArrayList<>();
                for (ParameterDeclaration f : d.fields()) {
                    props.put(f.name(), of(f));
                    if (f.required()) {
                        required.add(f.name());
                    }
                }
                s.put("properties", props);
                if (!required.isEmpty()) {
                    s.put("required", required);
                }
                s.put("additionalProperties", false);
            }
            default -> throw new IllegalStateException(d.type().toString());
        }
        return s;
    }
}
