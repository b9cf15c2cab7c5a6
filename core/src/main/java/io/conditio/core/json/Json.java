package io.conditio.core.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conditio.api.ModelLoadException;
import java.io.IOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * JSON for model folders and provenance, on Jackson (strict RFC 8259 plus Python's {@code NaN}, {@code Infinity}
 * and {@code -Infinity}, which Python's {@code json} module writes into diffusers configs).
 *
 * <p>Parsing produces plain Java values: {@link LinkedHashMap LinkedHashMap&lt;String, Object&gt;} for objects (key
 * order kept; a repeated key keeps its last value, as in Python), {@link ArrayList ArrayList&lt;Object&gt;} for
 * arrays, {@link String}, {@link Boolean}, {@code null}, and numbers as {@link Long} when the literal is an integer
 * that fits a {@code long}, otherwise as {@link Double}. Comments, trailing commas, single quotes, leading zeros,
 * unescaped control characters and content after the top-level value are rejected; syntax errors name the line and
 * column (both 1-based). Nesting deeper than {@value #MAX_DEPTH} and files larger than {@value #MAX_FILE_BYTES} bytes
 * are refused before they can exhaust the stack or the heap.
 *
 * <p>Writing is compact (no whitespace) and accepts maps with string keys, iterables, arrays, strings, characters,
 * numbers, booleans and {@code null}; an unpaired surrogate in a string is written as a {@code \\u} escape.
 *
 * <p>All methods are static and thread-safe.
 */
public final class Json {
    /** Deeper nesting than this is rejected rather than risking a stack overflow. */
    public static final int MAX_DEPTH = 1000;
    /** Larger JSON files than this (64 MiB) are refused; CLIP's vocab.json, the largest a model folder has, is 1 MB. */
    public static final long MAX_FILE_BYTES = 64L << 20;

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH)
                            .maxDocumentLength(MAX_FILE_BYTES)
                            .build())
                    .build())
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {
    }

    /**
     * Parses a JSON text.
     *
     * @param text the JSON text, never null
     * @return the value: a map, list, string, boolean, {@code Long}, {@code Double} or {@code null}
     * @throws IllegalArgumentException when the text is not valid JSON; the message gives line and column
     */
    public static Object parse(String text) {
        Objects.requireNonNull(text, "text");
        try {
            return toJava(readTree(text));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(describe(e), e);
        }
    }

    private static JsonNode readTree(String text) throws JsonProcessingException {
        JsonNode node = MAPPER.readTree(text);
        if (node == null || node.isMissingNode()) {
            throw new IllegalArgumentException("line 1, column 1: empty input, expected a JSON value");
        }
        return node;
    }

    /**
     * Reads and parses a UTF-8 JSON file. A leading byte order mark is ignored.
     *
     * @param file the file
     * @return the value, as {@link #parse(String)}
     * @throws ModelLoadException when the file cannot be read, is too large, is not UTF-8, or is not valid JSON; the
     *     message names the file and, for syntax errors, the line and column
     */
    public static Object parse(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException("JSON file not found: " + file, e);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read JSON file " + file + ": " + e, e);
        }
        if (size > MAX_FILE_BYTES) {
            throw new ModelLoadException("JSON file " + file + " is " + size + " bytes; at most " + MAX_FILE_BYTES
                    + " are read");
        }
        if (size == 0) {
            throw new ModelLoadException("JSON file " + file + " is empty; expected a JSON value");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read JSON file " + file + ": " + e, e);
        }
        checkUtf8(file, bytes);
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new ModelLoadException("JSON file " + file + " holds invalid JSON: " + describe(e), e);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read JSON file " + file + ": " + e, e);
        }
        if (node == null || node.isMissingNode()) {
            throw new ModelLoadException("JSON file " + file + " holds no value (only whitespace)");
        }
        return toJava(node);
    }

    private static void checkUtf8(Path file, byte[] bytes) {
        java.nio.charset.CharsetDecoder decoder = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(8192);
        while (true) {
            java.nio.charset.CoderResult r = decoder.decode(in, out, true);
            if (r.isError()) {
                throw new ModelLoadException("JSON file " + file + " is not valid UTF-8 (malformed byte at offset "
                        + in.position() + ")");
            }
            if (r.isUnderflow()) {
                return;
            }
            out.clear();
        }
    }

    /**
     * Reads a UTF-8 JSON file whose top-level value must be an object.
     *
     * @param file the file
     * @return the object's members, in file order
     * @throws ModelLoadException when the file cannot be read or parsed, or its top level is not an object
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(Path file) {
        Object value = parse(file);
        if (!(value instanceof Map)) {
            throw new ModelLoadException("expected a JSON object at the top level of " + file + " but found "
                    + typeName(value));
        }
        return (Map<String, Object>) value;
    }

    /**
     * Writes a value as compact JSON.
     *
     * @param value a {@link Map} with {@link String} keys, an {@link Iterable}, an array, a {@link CharSequence},
     *              a {@link Character}, a {@link Number}, a {@link Boolean} or {@code null}, nested freely
     * @return the JSON text
     * @throws IllegalArgumentException for other types and non-string map keys
     */
    public static String write(Object value) {
        try {
            return escapeLoneSurrogates(MAPPER.writeValueAsString(toNode(value, 0)));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Writes a value as indented JSON, for files people read.
     *
     * @param value as for {@link #write(Object)}
     * @return the JSON text
     * @throws IllegalArgumentException as {@link #write(Object)}
     */
    public static String writePretty(Object value) {
        try {
            return escapeLoneSurrogates(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toNode(value, 0)));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Names the JSON type of a parsed value, for messages.
     *
     * @param value a value as {@link #parse(String)} returns them
     * @return "an object", "an array", "a string", "a boolean", "a number" or "null"
     */
    public static String typeName(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof List) {
            return "an array";
        }
        if (value instanceof String) {
            return "a string";
        }
        if (value instanceof Boolean) {
            return "a boolean";
        }
        return "a number";
    }

    private static String describe(JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String message = e.getOriginalMessage();
        if (message != null && message.startsWith("Trailing token")) {
            message = "unexpected content after the JSON value";
        }
        if (at == null) {
            return message;
        }
        return "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": " + message;
    }

    private static Object toJava(JsonNode node) {
        switch (node.getNodeType()) {
            case OBJECT -> {
                Map<String, Object> out = new LinkedHashMap<>();
                Iterator<Map.Entry<String, JsonNode>> it = node.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    out.put(e.getKey(), toJava(e.getValue()));
                }
                return out;
            }
            case ARRAY -> {
                List<Object> out = new ArrayList<>(node.size());
                for (JsonNode child : node) {
                    out.add(toJava(child));
                }
                return out;
            }
            case STRING -> {
                return node.textValue();
            }
            case BOOLEAN -> {
                return node.booleanValue();
            }
            case NUMBER -> {
                if (node.isIntegralNumber() && node.canConvertToLong()) {
                    return node.longValue();
                }
                return node.doubleValue();
            }
            default -> {
                return null;
            }
        }
    }

    private static JsonNode toNode(Object value, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("cannot write JSON nested deeper than " + MAX_DEPTH);
        }
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (value == null) {
            return f.nullNode();
        }
        if (value instanceof CharSequence || value instanceof Character) {
            return f.textNode(value.toString());
        }
        if (value instanceof Boolean b) {
            return f.booleanNode(b);
        }
        if (value instanceof Number n) {
            return number(f, n);
        }
        if (value instanceof Map<?, ?> m) {
            ObjectNode o = f.objectNode();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("cannot write a JSON object with a non-string key: "
                            + e.getKey());
                }
                o.set(key, toNode(e.getValue(), depth + 1));
            }
            return o;
        }
        if (value instanceof Iterable<?> it) {
            ArrayNode a = f.arrayNode();
            for (Object x : it) {
                a.add(toNode(x, depth + 1));
            }
            return a;
        }
        if (value.getClass().isArray()) {
            ArrayNode a = f.arrayNode();
            int n = Array.getLength(value);
            for (int i = 0; i < n; i++) {
                a.add(toNode(Array.get(value, i), depth + 1));
            }
            return a;
        }
        throw new IllegalArgumentException("cannot write a " + value.getClass().getName() + " as JSON");
    }

    private static JsonNode number(JsonNodeFactory f, Number n) {
        if (n instanceof Double d) {
            return f.numberNode(d);
        }
        if (n instanceof Float x) {
            return f.numberNode(x);
        }
        if (n instanceof BigDecimal d) {
            return f.numberNode(d);
        }
        if (n instanceof BigInteger i) {
            return f.numberNode(i);
        }
        return f.numberNode(n.longValue());
    }

    private static String escapeLoneSurrogates(String json) {
        StringBuilder out = null;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            boolean lone = Character.isHighSurrogate(c)
                    ? i + 1 >= json.length() || !Character.isLowSurrogate(json.charAt(i + 1))
                    : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(json.charAt(i - 1)));
            if (Character.isHighSurrogate(c) && !lone) {
                if (out != null) {
                    out.append(c).append(json.charAt(i + 1));
                }
                i++;
                continue;
            }
            if (lone && out == null) {
                out = new StringBuilder(json.length() + 16).append(json, 0, i);
            }
            if (out != null) {
                if (lone) {
                    out.append(String.format("\\u%04X", (int) c));
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? json : out.toString();
    }
}
