package io.conditio.core.parameters;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.core.image.PngImages;
import io.conditio.core.json.Json;
import io.conditio.core.npy.Npy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns parameter values given as text ({@code --param KEY=VALUE}) or as JSON (a recipe) into the request values
 * their declarations name: numbers as {@link Double}, integers as {@link Long}, images read from a path or a
 * {@code data:} URI as {@link io.conditio.api.RgbImage}, files as {@link Path}, {@code .npy} files as tensors, and
 * groups field by field. Relative paths are resolved against a base folder (the recipe's folder, or the working
 * directory for the command line).
 */
public final class ParameterValues {
    private ParameterValues() {
    }

    /**
     * @param d    the declaration
     * @param text the value as typed; a list is comma-separated, a group is a JSON object
     * @param base the folder relative paths are resolved against
     * @return the request value
     * @throws InvalidRequestException naming the key and the expected type
     */
    public static Object fromText(ParameterDeclaration d, String text, Path base) {
        if (d.type() == ParameterType.GROUP || (d.list() && text.strip().startsWith("["))) {
            Object json;
            try {
                json = Json.parse(text);
            } catch (RuntimeException e) {
                throw new InvalidRequestException("parameter '" + d.name() + "' (" + d.typeText() + ") must be "
                        + "given as JSON here: " + e.getMessage());
            }
            return fromJson(d, json, base);
        }
        if (d.list() && !d.singleAllowed()) {
            List<Object> out = new ArrayList<>();
            for (String part : text.split(",", -1)) {
                out.add(scalarFromText(d, part.strip(), base));
            }
            return out;
        }
        return scalarFromText(d, text, base);
    }

    private static Object scalarFromText(ParameterDeclaration d, String text, Path base) {
        String where = "parameter '" + d.name() + "'";
        switch (d.type()) {
            case NUMBER -> {
                try {
                    double v = Double.parseDouble(text);
                    if (!Double.isFinite(v)) {
                        throw new NumberFormatException();
                    }
                    return v;
                } catch (NumberFormatException e) {
                    throw new InvalidRequestException(where + " must be a finite number (" + d.typeText() + "), got '"
                            + text + "'");
                }
            }
            case INTEGER -> {
                try {
                    return Long.parseLong(text);
                } catch (NumberFormatException e) {
                    throw new InvalidRequestException(where + " must be an integer (" + d.typeText() + "), got '"
                            + text + "'");
                }
            }
            case BOOLEAN -> {
                String t = text.toLowerCase(Locale.ROOT);
                if (t.equals("true") || t.equals("false")) {
                    return Boolean.parseBoolean(t);
                }
                throw new InvalidRequestException(where + " must be true or false, got '" + text + "'");
            }
            case STRING, ENUM -> {
                return text;
            }
            default -> {
                return item(d, text, base, where);
            }
        }
    }

    /**
     * @param d    the declaration
     * @param json the value as parsed JSON (String, Number, Boolean, List, Map)
     * @param base the folder relative paths are resolved against
     * @return the request value
     * @throws InvalidRequestException naming the key and the expected type
     */
    public static Object fromJson(ParameterDeclaration d, Object json, Path base) {
        return fromJson(d, json, base, "parameter '" + d.name() + "'");
    }

    private static Object fromJson(ParameterDeclaration d, Object json, Path base, String where) {
        if (json == null) {
            return null;
        }
        if (d.list() && d.singleAllowed() && !(json instanceof List<?>)) {
            return item(d, json, base, where);
        }
        if (d.list()) {
            // a single value where a list is declared is a list of one
            List<?> items = json instanceof List<?> l ? l : List.of(json);
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                out.add(item(d, items.get(i), base, where + " item " + i));
            }
            return out;
        }
        return item(d, json, base, where);
    }

    private static Object item(ParameterDeclaration d, Object json, Path base, String where) {
        switch (d.type()) {
            case NUMBER -> {
                return json instanceof Number n ? (Object) n.doubleValue() : json;
            }
            case INTEGER -> {
                if (json instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                        && Math.abs(n.doubleValue()) < 9.0e15) {
                    return n.longValue();
                }
                return json;
            }
            case IMAGE -> {
                if (json instanceof String s) {
                    return image(s, base, where);
                }
                return json;
            }
            case FILE -> {
                if (json instanceof String s && !s.isBlank()) {
                    return base.resolve(s).normalize();
                }
                return json;
            }
            case TENSOR -> {
                if (json instanceof String s && !s.isBlank()) {
                    return Npy.readFloat(base.resolve(s));
                }
                return json;
            }
            case GROUP -> {
                if (!(json instanceof Map<?, ?> map)) {
                    return json;
                }
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    String k = String.valueOf(e.getKey());
                    ParameterDeclaration f = d.field(k).orElse(null);
                    // unknown fields are kept as they are: validation names them
                    out.put(k, f == null ? e.getValue() : fromJson(f, e.getValue(), base, where + " field '" + k
                            + "'"));
                }
                return out;
            }
            default -> {
                return json;
            }
        }
    }

    /**
     * @param text  a path or a {@code data:image/...;base64,} URI
     * @param base  the folder a relative path is resolved against
     * @param where what the image is, for messages
     * @return the image
     */
    public static io.conditio.api.RgbImage image(String text, Path base, String where) {
        if (text.startsWith("data:")) {
            int comma = text.indexOf(',');
            if (comma < 0 || !text.substring(0, comma).endsWith(";base64")) {
                throw new InvalidRequestException(where + ": a data: URI must be data:image/...;base64,...");
            }
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(text.substring(comma + 1).strip());
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(where + ": the data: URI is not valid base64: " + e.getMessage());
            }
            return PngImages.decode(bytes, where + " (data: URI)");
        }
        return PngImages.read(base.resolve(text));
    }

    /**
     * The typing {@code --param} used before declarations, for keys no plugin declares (passed to plugins built
     * against SPI 0.1.0): true/false, integers as Long and decimals as Double are typed, anything else is text.
     *
     * @param text the value as typed
     * @return the value
     */
    public static Object guess(String text) {
        if (text.equals("true") || text.equals("false")) {
            return Boolean.parseBoolean(text);
        }
        if (text.matches("[+-]?\\d{1,18}")) {
            return Long.parseLong(text);
        }
        if (text.matches("[+-]?(\\d+\\.\\d*|\\.\\d+|\\d+)([eE][+-]?\\d+)?")) {
            return Double.parseDouble(text);
        }
        return text;
    }
}
