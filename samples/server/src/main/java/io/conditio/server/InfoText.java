package io.conditio.server;

import java.util.Map;

/**
 * The A1111 {@code parameters} text that every Stable Diffusion tool reads: the prompt, a "Negative prompt:" line,
 * then {@code Key: value} pairs separated by ", " (values with a comma or colon are quoted).
 */
final class InfoText {
    private InfoText() {
    }

    /**
     * @param prompt   the prompt
     * @param negative the negative prompt
     * @param pairs    the settings line, in order
     * @return the text
     */
    static String format(String prompt, String negative, Map<String, String> pairs) {
        StringBuilder b = new StringBuilder(prompt);
        if (!negative.isEmpty()) {
            b.append("\nNegative prompt: ").append(negative);
        }
        StringBuilder line = new StringBuilder();
        pairs.forEach((k, v) -> {
            if (v == null) {
                return;
            }
            if (line.length() > 0) {
                line.append(", ");
            }
            line.append(k).append(": ").append(quoted(v));
        });
        return b.append('\n').append(line).toString();
    }

    private static String quoted(String v) {
        if (v.contains(",") || v.contains(":") || v.contains("\n") || v.contains("\"")) {
            return '"' + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
        }
        return v;
    }
}
