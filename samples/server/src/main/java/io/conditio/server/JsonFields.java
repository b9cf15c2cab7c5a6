package io.conditio.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

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
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw ApiError.badField(field, "expected a string, got " + v);
        }
        return v.asText();
    }

    static Integer integer(JsonNode obj, String field, Integer fallback) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (v.isIntegralNumber() && v.canConvertToInt()) {
            return v.asInt();
        }
        if (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()) && Math.abs(v.asDouble()) < Integer.MAX_VALUE) {
            return (int) v.asDouble();
        }
        throw ApiError.badField(field, "expected an integer, got " + v);
    }

    static Long longValue(JsonNode obj, String field, Long fallback) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.asLong();
        }
        if (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()) && Math.abs(v.asDouble()) < 9e18) {
            return (long) v.asDouble();
        }
        throw ApiError.badField(field, "expected an integer, got " + v);
    }

    static Double number(JsonNode obj, String field, Double fallback) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw ApiError.badField(field, "expected a number, got " + v);
        }
        return v.asDouble();
    }

    static Boolean bool(JsonNode obj, String field, Boolean fallback) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw ApiError.badField(field, "expected true or false, got " + v);
        }
        return v.asBoolean();
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
