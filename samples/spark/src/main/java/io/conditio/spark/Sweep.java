package io.conditio.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conditio.api.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A sweep: a JSON object with a list of values per request key ({@code "seed": [1, 2, 3]}), and per parameter under
 * {@code "parameters"} ({@code "parameters": {"class_label": [0, 1]}}). Every request is expanded on the driver into
 * the cartesian product, keys in file order. Each expanded request's id is its base id, a dash and the first 10 hex
 * digits of the SHA-256 of the values it was given (as canonical JSON with sorted keys): the same sweep always gives
 * the same ids, and adding values to a sweep keeps the ids of the requests it already had, so a grown sweep resumes.
 */
final class Sweep {
    private final List<Axis> axes = new ArrayList<>();

    private record Axis(boolean parameter, String key, List<JsonNode> values) {
    }

    private Sweep() {
    }

    /**
     * @param json the sweep file's content
     * @return the sweep
     * @throws InvalidRequestException when it is not an object of lists
     */
    static Sweep parse(String json) {
        JsonNode root;
        try {
            root = RecipeMapping.JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new InvalidRequestException("sweep: not JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InvalidRequestException("sweep: expected a JSON object of lists, e.g. {\"seed\": [1, 2]}");
        }
        Sweep s = new Sweep();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("parameters")) {
                if (!e.getValue().isObject()) {
                    throw new InvalidRequestException("sweep: 'parameters' must be an object of lists");
                }
                e.getValue().fields().forEachRemaining(p -> s.axes.add(axis(true, p.getKey(), p.getValue())));
            } else if (e.getKey().equals("id")) {
                throw new InvalidRequestException("sweep: 'id' cannot be swept (ids are derived)");
            } else if (!RecipeMapping.KEYS.contains(e.getKey())) {
                throw new InvalidRequestException("sweep: unknown key '" + e.getKey() + "'; the keys are "
                        + RecipeMapping.KEYS.stream().sorted().toList());
            } else {
                s.axes.add(axis(false, e.getKey(), e.getValue()));
            }
        }
        return s;
    }

    private static Axis axis(boolean parameter, String key, JsonNode values) {
        String where = "sweep: " + (parameter ? "parameters." : "") + key;
        if (!values.isArray() || values.isEmpty()) {
            throw new InvalidRequestException(where + ": expected a non-empty list of values");
        }
        List<JsonNode> list = new ArrayList<>();
        values.forEach(list::add);
        return new Axis(parameter, key, list);
    }

    /** @return how many requests one base request expands into */
    int size() {
        int n = 1;
        for (Axis a : axes) {
            n = Math.multiplyExact(n, a.values().size());
        }
        return n;
    }

    /**
     * @param id   the base request's id
     * @param base the base request
     * @return the expanded requests as (id, request) in a fixed order
     */
    List<Map.Entry<String, ObjectNode>> expand(String id, ObjectNode base) {
        List<Map.Entry<String, ObjectNode>> out = new ArrayList<>();
        int n = size();
        for (int i = 0; i < n; i++) {
            ObjectNode r = base.deepCopy();
            ObjectNode given = RecipeMapping.JSON.createObjectNode();
            int rest = i;
            for (int a = axes.size() - 1; a >= 0; a--) {
                Axis axis = axes.get(a);
                JsonNode v = axis.values().get(rest % axis.values().size());
                rest /= axis.values().size();
                if (axis.parameter()) {
                    JsonNode params = r.get("parameters");
                    ObjectNode p = params instanceof ObjectNode o ? o : r.putObject("parameters");
                    p.set(axis.key(), v.deepCopy());
                    given.set("parameters." + axis.key(), v);
                } else {
                    r.set(axis.key(), v.deepCopy());
                    given.set(axis.key(), v);
                }
            }
            r.put("id", id + "-" + digest(given));
            out.add(Map.entry(r.get("id").asText(), r));
        }
        return out;
    }

    private static String digest(ObjectNode given) {
        try {
            String canonical = RecipeMapping.JSON.copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS,
                    true).writeValueAsString(RecipeMapping.JSON.treeToValue(given, Object.class));
            byte[] d = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, 10);
        } catch (java.io.IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
