package io.conditio.plugins.text;

import java.util.ArrayList;
import java.util.List;

/**
 * The widely used prompt-weighting syntax: {@code (word)} multiplies attention by 1.1, {@code [word]} divides it by
 * 1.1, {@code (word:1.3)} sets the factor of that group to 1.3; groups nest and multiply. {@code \(}, {@code \)},
 * {@code \[}, {@code \]} and {@code \\} are literal characters. A group left open weights the rest of the prompt;
 * a stray closing bracket is literal text. A1111's network tags ({@code <lora:NAME:SCALE>}) are removed: they
 * select weight patches, which the LoRA plugin reads from the prompt itself.
 */
public final class PromptSyntax {
    /** The factor of one pair of round brackets. */
    public static final double ROUND = 1.1;
    private static final java.util.regex.Pattern LORA_TAG = java.util.regex.Pattern.compile("<lora:[^<>]*>");

    private PromptSyntax() {
    }

    /**
     * A run of prompt text with one attention weight.
     *
     * @param text   the text, brackets and escapes removed
     * @param weight the factor its tokens' embeddings are multiplied by
     */
    public record Fragment(String text, double weight) {
    }

    private static final class Group {
        final int start;
        final char open;

        Group(int start, char open) {
            this.start = start;
            this.open = open;
        }
    }

    /**
     * @param prompt a prompt, possibly with weighting syntax
     * @return its fragments in order, adjacent fragments of equal weight merged; empty text gives no fragments
     * @throws io.conditio.api.InvalidRequestException when a weight overflows to infinity
     */
    public static List<Fragment> parse(String prompt) {
        prompt = LORA_TAG.matcher(prompt).replaceAll("");
        List<StringBuilder> texts = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        List<Group> open = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int n = prompt.length();
        for (int i = 0; i < n; i++) {
            char c = prompt.charAt(i);
            if (c == '\\' && i + 1 < n && "()[]\\".indexOf(prompt.charAt(i + 1)) >= 0) {
                current.append(prompt.charAt(++i));
                continue;
            }
            if (c == '(' || c == '[') {
                flush(current, texts, weights);
                open.add(new Group(texts.size(), c));
                continue;
            }
            if ((c == ')' || c == ']') && !open.isEmpty() && open.get(open.size() - 1).open == (c == ')' ? '(' : '[')) {
                double factor = c == ')' ? ROUND : 1 / ROUND;
                if (c == ')') {
                    int colon = current.lastIndexOf(":");
                    if (colon >= 0) {
                        Double explicit = number(current.substring(colon + 1));
                        if (explicit != null) {
                            current.setLength(colon);
                            factor = explicit;
                        }
                    }
                }
                flush(current, texts, weights);
                Group g = open.remove(open.size() - 1);
                for (int k = g.start; k < weights.size(); k++) {
                    weights.set(k, weights.get(k) * factor);
                }
                continue;
            }
            current.append(c);
        }
        flush(current, texts, weights);
        for (Group g : open) {
            double factor = g.open == '(' ? ROUND : 1 / ROUND;
            for (int k = g.start; k < weights.size(); k++) {
                weights.set(k, weights.get(k) * factor);
            }
        }
        List<Fragment> out = new ArrayList<>();
        for (int k = 0; k < texts.size(); k++) {
            String t = texts.get(k).toString();
            double w = weights.get(k);
            if (!Double.isFinite(w)) {
                throw new io.conditio.api.InvalidRequestException("prompt weighting: the weight of '"
                        + (t.length() > 40 ? t.substring(0, 40) + "..." : t) + "' is " + w
                        + " (too many nested brackets or a factor too large); weights must be finite numbers");
            }
            if (!out.isEmpty() && out.get(out.size() - 1).weight() == w) {
                Fragment last = out.remove(out.size() - 1);
                out.add(new Fragment(last.text() + t, w));
            } else {
                out.add(new Fragment(t, w));
            }
        }
        return out;
    }

    /** @return true when the prompt uses weighting syntax that changes any weight */
    static boolean isPlain(List<Fragment> fragments) {
        return fragments.stream().allMatch(f -> f.weight() == 1.0);
    }

    private static void flush(StringBuilder current, List<StringBuilder> texts, List<Double> weights) {
        if (current.length() > 0) {
            texts.add(new StringBuilder(current));
            weights.add(1.0);
            current.setLength(0);
        }
    }

    private static Double number(String s) {
        String t = s.strip();
        if (t.isEmpty() || !t.matches("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)")) {
            return null;
        }
        return Double.parseDouble(t);
    }
}
