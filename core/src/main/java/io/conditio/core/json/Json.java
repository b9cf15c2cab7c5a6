package io.conditio.core.json;

import io.conditio.api.ModelLoadException;
import java.io.IOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A small, strict JSON reader and writer (RFC 8259).
 *
 * <p>Parsing produces plain Java values: {@link LinkedHashMap LinkedHashMap&lt;String, Object&gt;} for objects (key
 * order kept; a repeated key keeps its last value), {@link ArrayList ArrayList&lt;Object&gt;} for arrays, {@link String},
 * {@link Boolean}, {@code null}, and numbers as {@link Long} when the literal has neither fraction nor exponent and
 * fits a {@code long}, otherwise as {@link Double}. Anything RFC 8259 does not allow is rejected: comments, trailing
 * commas, single quotes, leading zeros, unescaped control characters in strings, and content after the
 * top-level value. One extension is accepted and written, as Python's {@code json} module does, because diffusers
 * configs contain it: the literals {@code NaN}, {@code Infinity} and {@code -Infinity}. Syntax errors name the line and column (both 1-based) where they were found.
 *
 * <p>Writing is compact (no whitespace) and accepts maps with string keys, iterables, arrays, strings, characters,
 * numbers, booleans and {@code null}.
 *
 * <p>All methods are static and thread-safe.
 */
public final class Json {

    /** Deeper nesting than this is rejected rather than risking a stack overflow. */
    private static final int MAX_DEPTH = 1000;

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
        return new Parser(text).parseDocument();
    }

    /**
     * Reads and parses a UTF-8 JSON file. A leading byte order mark is ignored.
     *
     * @param file the file
     * @return the value, as {@link #parse(String)}
     * @throws ModelLoadException when the file cannot be read, is not UTF-8, or is not valid JSON; the message names
     *                            the file and, for syntax errors, the line and column
     */
    public static Object parse(Path file) {
        String text = readUtf8(file);
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
            text = text.substring(1);
        }
        try {
            return new Parser(text).parseDocument();
        } catch (SyntaxError e) {
            throw new ModelLoadException("invalid JSON in " + file + ": " + e.getMessage(), e);
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
                    + describe(value));
        }
        return (Map<String, Object>) value;
    }

    /**
     * Writes a value as compact JSON.
     *
     * @param value a {@link Map} with {@link String} keys, an {@link Iterable}, an array, a {@link CharSequence},
     *              a {@link Character}, a {@link Number}, a {@link Boolean} or {@code null}, nested freely
     * @return the JSON text
     * @throws IllegalArgumentException for other types, non-string map keys, and non-finite numbers
     */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        writeValue(sb, value, 0);
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------------------ reading

    private static String readUtf8(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read JSON file " + file + ": " + e, e);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ModelLoadException("JSON file " + file + " is not valid UTF-8: " + e, e);
        }
    }

    private static String describe(Object value) {
        if (value == null) {
            return "null";
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

    /** A syntax error; its message carries the position. */
    private static final class SyntaxError extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        SyntaxError(String message) {
            super(message);
        }
    }

    private static final class Parser {
        private final String s;
        private final int n;
        private int pos;
        private int depth;

        Parser(String s) {
            this.s = s;
            this.n = s.length();
        }

        Object parseDocument() {
            skipWhitespace();
            if (pos >= n) {
                throw error(pos, "empty input, expected a JSON value");
            }
            Object v = parseValue();
            skipWhitespace();
            if (pos < n) {
                throw error(pos, "unexpected " + describeChar(pos) + " after the JSON value");
            }
            return v;
        }

        private Object parseValue() {
            if (pos >= n) {
                throw error(pos, "unexpected end of input, expected a value");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return parseObject();
                case '[':
                    return parseArray();
                case '"':
                    return parseString();
                case 't':
                    expectWord("true");
                    return Boolean.TRUE;
                case 'f':
                    expectWord("false");
                    return Boolean.FALSE;
                case 'n':
                    expectWord("null");
                    return null;
                default:
                    if (c == '-' || c == 'I' || c == 'N' || (c >= '0' && c <= '9')) {
                        return parseNumber();
                    }
                    throw error(pos, "unexpected " + describeChar(pos) + ", expected a value");
            }
        }

        private Map<String, Object> parseObject() {
            int start = pos;
            enter(start);
            pos++; // '{'
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (pos < n && s.charAt(pos) == '}') {
                pos++;
                depth--;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (pos >= n) {
                    throw error(pos, "unexpected end of input in the object that starts at " + where(start));
                }
                if (s.charAt(pos) != '"') {
                    throw error(pos, "unexpected " + describeChar(pos) + ", expected a string key");
                }
                String key = parseString();
                skipWhitespace();
                if (pos >= n || s.charAt(pos) != ':') {
                    throw error(pos, "expected ':' after an object key but found " + describeChar(pos));
                }
                pos++;
                skipWhitespace();
                map.put(key, parseValue());
                skipWhitespace();
                if (pos >= n) {
                    throw error(pos, "unexpected end of input in the object that starts at " + where(start));
                }
                char c = s.charAt(pos);
                if (c == ',') {
                    pos++;
                } else if (c == '}') {
                    pos++;
                    depth--;
                    return map;
                } else {
                    throw error(pos, "expected ',' or '}' in an object but found " + describeChar(pos));
                }
            }
        }

        private List<Object> parseArray() {
            int start = pos;
            enter(start);
            pos++; // '['
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (pos < n && s.charAt(pos) == ']') {
                pos++;
                depth--;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(parseValue());
                skipWhitespace();
                if (pos >= n) {
                    throw error(pos, "unexpected end of input in the array that starts at " + where(start));
                }
                char c = s.charAt(pos);
                if (c == ',') {
                    pos++;
                } else if (c == ']') {
                    pos++;
                    depth--;
                    return list;
                } else {
                    throw error(pos, "expected ',' or ']' in an array but found " + describeChar(pos));
                }
            }
        }

        private void enter(int at) {
            if (++depth > MAX_DEPTH) {
                throw error(at, "nesting deeper than " + MAX_DEPTH + " levels");
            }
        }

        private String parseString() {
            int start = pos;
            pos++; // opening quote
            StringBuilder sb = null;
            int runStart = pos;
            while (true) {
                if (pos >= n) {
                    throw error(start, "unterminated string");
                }
                char c = s.charAt(pos);
                if (c == '"') {
                    String result;
                    if (sb == null) {
                        result = s.substring(runStart, pos);
                    } else {
                        sb.append(s, runStart, pos);
                        result = sb.toString();
                    }
                    pos++;
                    return result;
                }
                if (c < 0x20) {
                    throw error(pos, "unescaped control character U+" + hex4(c) + " in a string");
                }
                if (c != '\\') {
                    pos++;
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(s, runStart, pos);
                int escapeAt = pos;
                pos++;
                if (pos >= n) {
                    throw error(start, "unterminated string");
                }
                char e = s.charAt(pos++);
                switch (e) {
                    case '"':
                        sb.append('"');
                        break;
                    case '\\':
                        sb.append('\\');
                        break;
                    case '/':
                        sb.append('/');
                        break;
                    case 'b':
                        sb.append('\b');
                        break;
                    case 'f':
                        sb.append('\f');
                        break;
                    case 'n':
                        sb.append('\n');
                        break;
                    case 'r':
                        sb.append('\r');
                        break;
                    case 't':
                        sb.append('\t');
                        break;
                    case 'u':
                        // UTF-16 code units; a surrogate pair written as two escapes joins naturally.
                        sb.append(readHex4(escapeAt));
                        break;
                    default:
                        throw error(escapeAt, "invalid escape '\\" + printable(e) + "' in a string");
                }
                runStart = pos;
            }
        }

        private char readHex4(int escapeAt) {
            if (pos + 4 > n) {
                throw error(escapeAt, "incomplete \\u escape");
            }
            int v = 0;
            for (int i = 0; i < 4; i++) {
                int d = Character.digit(s.charAt(pos + i), 16);
                if (d < 0 || s.charAt(pos + i) > 'f') {
                    throw error(escapeAt, "invalid \\u escape '" + s.substring(escapeAt, pos + 4) + "'");
                }
                v = (v << 4) | d;
            }
            pos += 4;
            return (char) v;
        }

        private Object parseNumber() {
            int start = pos;
            boolean integral = true;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            // Python's json module writes these, and diffusers configs carry them (lambda_min_clipped: -Infinity)
            if (s.startsWith("Infinity", pos)) {
                pos += "Infinity".length();
                return start == pos - "Infinity".length() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
            }
            if (pos == start && s.startsWith("NaN", pos)) {
                pos += 3;
                return Double.NaN;
            }
            if (pos >= n || !isDigit(s.charAt(pos))) {
                throw error(pos, "expected a digit in a number but found " + describeChar(pos));
            }
            if (s.charAt(pos) == '0') {
                pos++;
                if (pos < n && isDigit(s.charAt(pos))) {
                    throw error(start, "leading zeros are not allowed in a number");
                }
            } else {
                while (pos < n && isDigit(s.charAt(pos))) {
                    pos++;
                }
            }
            if (pos < n && s.charAt(pos) == '.') {
                integral = false;
                pos++;
                if (pos >= n || !isDigit(s.charAt(pos))) {
                    throw error(pos, "expected a digit after the decimal point but found " + describeChar(pos));
                }
                while (pos < n && isDigit(s.charAt(pos))) {
                    pos++;
                }
            }
            if (pos < n && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < n && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                    pos++;
                }
                if (pos >= n || !isDigit(s.charAt(pos))) {
                    throw error(pos, "expected a digit in the exponent but found " + describeChar(pos));
                }
                while (pos < n && isDigit(s.charAt(pos))) {
                    pos++;
                }
            }
            String literal = s.substring(start, pos);
            if (integral) {
                // at most 18 digits always fits; longer literals are checked
                int digits = literal.length() - (literal.charAt(0) == '-' ? 1 : 0);
                if (digits <= 18) {
                    return Long.parseLong(literal);
                }
                BigInteger big = new BigInteger(literal);
                if (big.bitLength() < 64) {
                    return big.longValue();
                }
            }
            return Double.parseDouble(literal);
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private void expectWord(String word) {
            if (!s.startsWith(word, pos)) {
                throw error(pos, "unexpected " + describeChar(pos) + ", expected a value");
            }
            pos += word.length();
        }

        private void skipWhitespace() {
            while (pos < n) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        private String describeChar(int at) {
            if (at >= n) {
                return "end of input";
            }
            return "'" + printable(s.charAt(at)) + "'";
        }

        private static String printable(char c) {
            if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) {
                return "\\u" + hex4(c);
            }
            return String.valueOf(c);
        }

        private String where(int offset) {
            int line = 1;
            int col = 1;
            for (int i = 0; i < offset && i < n; i++) {
                char c = s.charAt(i);
                if (c == '\n') {
                    line++;
                    col = 1;
                } else if (c == '\r') {
                    if (i + 1 < n && s.charAt(i + 1) == '\n') {
                        continue; // CRLF counts once, at the '\n'
                    }
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            return "line " + line + ", column " + col;
        }

        private SyntaxError error(int offset, String message) {
            return new SyntaxError(where(offset) + ": " + message);
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    private static void writeValue(StringBuilder sb, Object value, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("cannot write JSON nested deeper than " + MAX_DEPTH
                    + " levels (a cycle?)");
        }
        if (value == null) {
            sb.append("null");
        } else if (value instanceof CharSequence || value instanceof Character) {
            writeString(sb, value.toString());
        } else if (value instanceof Boolean) {
            sb.append(((Boolean) value).booleanValue() ? "true" : "false");
        } else if (value instanceof Number) {
            writeNumber(sb, (Number) value);
        } else if (value instanceof Map) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                if (!(e.getKey() instanceof String)) {
                    throw new IllegalArgumentException("cannot write a JSON object key of type "
                            + (e.getKey() == null ? "null" : e.getKey().getClass().getName()));
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                writeString(sb, (String) e.getKey());
                sb.append(':');
                writeValue(sb, e.getValue(), depth + 1);
            }
            sb.append('}');
        } else if (value instanceof Iterable) {
            sb.append('[');
            boolean first = true;
            for (Object item : (Iterable<?>) value) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                writeValue(sb, item, depth + 1);
            }
            sb.append(']');
        } else if (value.getClass().isArray()) {
            sb.append('[');
            int len = Array.getLength(value);
            for (int i = 0; i < len; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                writeValue(sb, Array.get(value, i), depth + 1);
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException("cannot write a value of type " + value.getClass().getName()
                    + " as JSON");
        }
    }

    private static void writeNumber(StringBuilder sb, Number number) {
        if (number instanceof Double || number instanceof Float) {
            double d = number.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                sb.append(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                return;
            }
            // Float.toString keeps the shortest text that reads back as the same float
            sb.append(number instanceof Float ? Float.toString(number.floatValue()) : Double.toString(d));
        } else if (number instanceof BigDecimal) {
            sb.append(((BigDecimal) number).toString());
        } else if (number instanceof Long || number instanceof Integer || number instanceof Short
                || number instanceof Byte || number instanceof BigInteger) {
            sb.append(number.toString());
        } else {
            double d = number.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("JSON cannot represent the number " + number);
            }
            sb.append(Double.toString(d));
        }
    }

    private static void writeString(StringBuilder sb, String str) {
        sb.append('"');
        int len = str.length();
        for (int i = 0; i < len; i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"':
                    sb.append("\\\"");
                    break;
                case '\\':
                    sb.append("\\\\");
                    break;
                case '\n':
                    sb.append("\\n");
                    break;
                case '\r':
                    sb.append("\\r");
                    break;
                case '\t':
                    sb.append("\\t");
                    break;
                case '\b':
                    sb.append("\\b");
                    break;
                case '\f':
                    sb.append("\\f");
                    break;
                default:
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        sb.append("\\u").append(hex4(c));
                    } else if (Character.isHighSurrogate(c) && i + 1 < len
                            && Character.isLowSurrogate(str.charAt(i + 1))) {
                        sb.append(c).append(str.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        // a lone surrogate cannot be encoded as UTF-8; the escape keeps the text intact
                        sb.append("\\u").append(hex4(c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    private static String hex4(char c) {
        String h = Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT);
        return "0000".substring(h.length()) + h;
    }
}
