package io.conditio.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ModelLoadException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {

    @TempDir
    Path tmp;

    @Test
    void parsesScalars() {
        assertThat(Json.parse("true")).isEqualTo(Boolean.TRUE);
        assertThat(Json.parse(" false ")).isEqualTo(Boolean.FALSE);
        assertThat(Json.parse("null")).isNull();
        assertThat(Json.parse("\"x\"")).isEqualTo("x");
    }

    @Test
    void parsesIntegersAsLongAndOthersAsDouble() {
        assertThat(Json.parse("0")).isEqualTo(0L);
        assertThat(Json.parse("-0")).isEqualTo(0L);
        assertThat(Json.parse("42")).isEqualTo(42L);
        assertThat(Json.parse("-17")).isEqualTo(-17L);
        assertThat(Json.parse("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        assertThat(Json.parse("-9223372036854775808")).isEqualTo(Long.MIN_VALUE);
        assertThat(Json.parse("9223372036854775808")).isEqualTo(9.223372036854775808e18);
        assertThat(Json.parse("1.5")).isEqualTo(1.5);
        assertThat(Json.parse("1.0")).isInstanceOf(Double.class).isEqualTo(1.0);
        assertThat(Json.parse("1e3")).isInstanceOf(Double.class).isEqualTo(1000.0);
        assertThat(Json.parse("-2.5E-3")).isEqualTo(-0.0025);
        assertThat(Json.parse("1E+2")).isEqualTo(100.0);
        assertThat(Json.parse("0.1")).isEqualTo(0.1);
        assertThat(Json.parse("22.806318283081055")).isEqualTo(22.806318283081055);
    }

    @Test
    void parsesEscapes() {
        assertThat(Json.parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"")).isEqualTo("a\"b\\c/d\b\f\n\r\t");
        assertThat(Json.parse("\"\\u00e9\\u00C9\\u0000\"")).isEqualTo("\u00e9\u00c9\u0000");
        // surrogate pair for U+1F600
        String smiley = (String) Json.parse("\"\\ud83d\\ude00\"");
        assertThat(smiley).isEqualTo(new String(Character.toChars(0x1F600)));
        assertThat(smiley.codePointAt(0)).isEqualTo(0x1F600);
        assertThat(Json.parse("\"naïve ☃ \uD83D\uDE00\"")).isEqualTo("naïve ☃ \uD83D\uDE00");
    }

    @Test
    @SuppressWarnings("unchecked")
    void parsesNestingInOrder() {
        Object v = Json.parse("{\"b\": [1, 2.5, {\"x\": null}], \"a\": {\"c\": [], \"d\": {}}, \"e\": \"\"}");
        assertThat(v).isInstanceOf(LinkedHashMap.class);
        Map<String, Object> m = (Map<String, Object>) v;
        assertThat(m.keySet()).containsExactly("b", "a", "e");
        List<Object> b = (List<Object>) m.get("b");
        assertThat(b).isInstanceOf(ArrayList.class);
        assertThat(b.get(0)).isEqualTo(1L);
        assertThat(b.get(1)).isEqualTo(2.5);
        assertThat((Map<String, Object>) b.get(2)).containsEntry("x", null).hasSize(1);
        Map<String, Object> a = (Map<String, Object>) m.get("a");
        assertThat((List<Object>) a.get("c")).isEmpty();
        assertThat((Map<String, Object>) a.get("d")).isEmpty();
        assertThat(m.get("e")).isEqualTo("");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "-", "1e", "Inf", "-NaN",
            "'x'", "{a:1}", "[1 2]", "\"abc", "\"\\x\"", "\"\\u12G4\"", "tru", "nul", "{\"a\" 1}", "1 2",
            "[1] x", "// c\n1", "\"tab\there\""})
    void rejectsInvalidText(String text) {
        // Jackson's non-numeric literals also take "+Infinity", which Python does not write; it is not listed here
        assertThatThrownBy(() -> Json.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line ")
                .hasMessageContaining("column ");
    }

    @Test
    void errorMessagesGivePosition() {
        assertThatThrownBy(() -> Json.parse("{\n  \"a\": 1,\n  \"b\": tru\n}"))
                .hasMessageStartingWith("line 3, column 8:");
        assertThatThrownBy(() -> Json.parse("[1,\r\n 2,]"))
                .hasMessageStartingWith("line 2, column 4:");
        assertThatThrownBy(() -> Json.parse("[1, 2] 3"))
                .hasMessageStartingWith("line 1, column 8:")
                .hasMessageContaining("after the JSON value");
    }

    @Test
    void fileErrorsNameFileAndPosition() throws Exception {
        Path f = tmp.resolve("broken.json");
        Files.writeString(f, "{\n  \"x\": [1, 2,\n  ]\n}", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Json.parse(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("line 3, column 3");
    }

    @Test
    void missingFileIsModelLoadException() {
        Path f = tmp.resolve("nope.json");
        assertThatThrownBy(() -> Json.parse(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(f.toString());
    }

    @Test
    void invalidUtf8IsModelLoadException() throws Exception {
        Path f = tmp.resolve("latin1.json");
        Files.write(f, new byte[] {'"', (byte) 0xE9, '"'});
        assertThatThrownBy(() -> Json.parse(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("UTF-8");
    }

    @Test
    void parseObjectReadsFileAndRequiresObject() throws Exception {
        Path ok = tmp.resolve("ok.json");
        Files.write(ok, ("\uFEFF{\"name\": \"r\u00e9sum\u00e9\", \"n\": 3}").getBytes(StandardCharsets.UTF_8));
        assertThat(Json.parseObject(ok)).containsEntry("name", "résumé").containsEntry("n", 3L);

        Path arr = tmp.resolve("arr.json");
        Files.writeString(arr, "[1]");
        assertThatThrownBy(() -> Json.parseObject(arr))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(arr.toString())
                .hasMessageContaining("object");
    }

    @Test
    void writesCompactly() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "x");
        m.put("n", 3L);
        m.put("i", 7);
        m.put("d", 0.5);
        m.put("f", 0.1f);
        m.put("b", true);
        m.put("z", null);
        m.put("l", List.of(1L, List.of(), Map.of()));
        m.put("a", new int[] {1, 2});
        assertThat(Json.write(m)).isEqualTo(
                "{\"s\":\"x\",\"n\":3,\"i\":7,\"d\":0.5,\"f\":0.1,\"b\":true,\"z\":null,\"l\":[1,[],{}],\"a\":[1,2]}");
    }

    @Test
    void writesEscapes() {
        assertThat(Json.write("q\"b\\s/\n\r\t\b\f\u0001\u001f é ☃ \uD83D\uDE00"))
                .isEqualTo("\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001F é ☃ \uD83D\uDE00\"");
        assertThat(Json.write("\uD800")).isEqualTo("\"\\uD800\"");
    }

    @Test
    void readsAndWritesPythonsNonFiniteLiteralsAsDiffusersConfigsUseThem() {
        assertThat(Json.parse("{\"lambda_min_clipped\": -Infinity}"))
                .isEqualTo(Map.of("lambda_min_clipped", Double.NEGATIVE_INFINITY));
        assertThat(Json.parse("[Infinity, NaN]")).asList().containsExactly(Double.POSITIVE_INFINITY, Double.NaN);
        assertThat(Json.write(java.util.List.of(Double.NEGATIVE_INFINITY, Double.NaN, Float.POSITIVE_INFINITY)))
                .isEqualTo("[-Infinity,NaN,Infinity]");
    }

    @Test
    void writeRejectsUnrepresentableValues() {
        assertThatThrownBy(() -> Json.write(Map.of(1, 2))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.write(new Object())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void roundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", "line1\nline2 \"quoted\" \\ \u0000 \uD83D\uDE00 ünï");
        m.put("values", new ArrayList<>(Arrays.asList(1L, -2L, 3.25, 1.0E-7, -1.5E300, null, false)));
        m.put("nested", new LinkedHashMap<>(Map.of("k", new ArrayList<>(List.of("v")))));
        assertThat(Json.parse(Json.write(m))).isEqualTo(m);
    }

    @Test
    void rejectsExcessiveNesting() {
        String deep = "[".repeat(5000) + "]".repeat(5000);
        assertThatThrownBy(() -> Json.parse(deep)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nesting");
    }
}
