package io.conditio.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Function;

/** The server's one Jackson mapper and the typed field readers its request parsers share. */
final class JsonFields {
    static final ObjectMapper MAPPER = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private JsonFields() {
    }

    static ObjectNode parseObject(String body) {
        JsonNode node;
        try {
            node = MAPPER.readTree(body == null ? "" : body);
        } catch (JsonProcessingException e) {
            throw new ApiError(400, "body", "body: not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null || !node.isObject()) {
            throw new ApiError(400, "body", "body: expected a JSON object");
        }
        return (ObjectNode) node;
    }

    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write JSON: " + e.getMessage(), e);
        }
    }

    static boolean present(JsonNode obj, String field) {
        JsonNode v = obj.get(field);
        return v != null && !v.isNull();
    }

    static String text(JsonNode obj, String field, String fallback) {
        return read(obj, field, fallback, v -> v.isTextual() ? v.asText() : null, "expected a string");
    }

    static Integer integer(JsonNode obj, String field, Integer fallback) {
        return read(obj, field, fallback, JsonFields::wholeInt, "expected an integer");
    }

    static Long longValue(JsonNode obj, String field, Long fallback) {
        return read(obj, field, fallback, JsonFields::wholeLong, "expected an integer");
    }

    /** An int, also from a whole number written as a decimal ({@code 512.0}); null for anything else. */
    private static Integer wholeInt(JsonNode v) {
        if (v.isIntegralNumber() && v.canConvertToInt()) {
            return v.asInt();
        }
        if (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()) && Math.abs(v.asDouble()) < Integer.MAX_VALUE) {
            return (int) v.asDouble();
        }
        return null;
    }

    /** A long, also from a whole number written as a decimal; null for anything else. */
    private static Long wholeLong(JsonNode v) {
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.asLong();
        }
        if (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()) && Math.abs(v.asDouble()) < 9e18) {
            return (long) v.asDouble();
        }
        return null;
    }

    static Double number(JsonNode obj, String field, Double fallback) {
        return read(obj, field, fallback, v -> v.isNumber() && Double.isFinite(v.asDouble()) ? v.asDouble() : null,
                "expected a number");
    }

    static Boolean bool(JsonNode obj, String field, Boolean fallback) {
        return read(obj, field, fallback, v -> v.isBoolean() ? v.asBoolean() : null, "expected true or false");
    }

    /**
     * A field's value: {@code fallback} when it is missing or null, else what {@code value} makes of it, else a 400
     * naming the field ({@code EXPECTED, got VALUE}) when {@code value} takes it for none.
     */
    private static <T> T read(JsonNode obj, String field, T fallback, Function<JsonNode, T> value, String expected) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        T read = value.apply(v);
        if (read == null) {
            throw ApiError.badField(field, expected + ", got " + v);
        }
        return read;
    }

    static List<String> strings(JsonNode obj, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw ApiError.badField(field, "expected a list of strings, got " + v.getNodeType());
        }
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw ApiError.badField(field + "[" + i + "]", "expected a string, got " + v.get(i).getNodeType());
            }
            out.add(v.get(i).asText());
        }
        return out;
    }
}
