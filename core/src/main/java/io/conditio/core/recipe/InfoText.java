package io.conditio.core.recipe;

import io.conditio.core.json.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code parameters} text that AUTOMATIC1111's web UI writes into its PNGs and that Stable Diffusion tools read:
 *
 * <pre>
 * a red circle at the top left
 * Negative prompt: blurry
 * Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7.5, Seed: 7, Size: 64x64, Model hash: 1a2b3c4d5e, Model: shapes, Conditio scheduler: euler-a
 * </pre>
 *
 * The last line is {@code Key: value} pairs separated by {@code ", "}; a value holding a comma, colon, quote or line
 * break is written as a JSON string, as A1111 does. Conditio's own keys start with {@code Conditio }.
 */
public final class InfoText {
    /** The PNG text key A1111 uses. */
    public static final String PNG_KEY = "parameters";

    /** Conditio scheduler names to A1111 sampler names (and schedule type), for the ones that match. */
    private static final Map<String, String[]> SAMPLERS = Map.ofEntries(
            Map.entry("ddim", new String[] {"DDIM", "Automatic"}),
            Map.entry("pndm", new String[] {"PLMS", "Automatic"}),
            Map.entry("lms", new String[] {"LMS", "Automatic"}),
            Map.entry("euler", new String[] {"Euler", "Automatic"}),
            Map.entry("euler-a", new String[] {"Euler a", "Automatic"}),
            Map.entry("heun", new String[] {"Heun", "Automatic"}),
            Map.entry("dpm++2m", new String[] {"DPM++ 2M", "Automatic"}),
            Map.entry("dpm++2m-karras", new String[] {"DPM++ 2M", "Karras"}),
            Map.entry("dpm++2m-sde", new String[] {"DPM++ 2M SDE", "Automatic"}),
            Map.entry("unipc", new String[] {"UniPC", "Automatic"}),
            Map.entry("lcm", new String[] {"LCM", "Automatic"}),
            Map.entry("kdpm2", new String[] {"DPM2", "Automatic"}),
            Map.entry("kdpm2-a", new String[] {"DPM2 a", "Automatic"}));

    private InfoText() {
    }

    /**
     * @param scheduler a Conditio scheduler name, e.g. {@code euler-a}
     * @return the A1111 sampler name ({@code Euler a}), or the name itself when A1111 has no such sampler
     */
    public static String samplerName(String scheduler) {
        String[] s = SAMPLERS.get(scheduler);
        return s == null ? scheduler : s[0];
    }

    /**
     * Writes the text from a generation's provenance entries.
     *
     * @param p the provenance entries ({@code prompt}, {@code negative_prompt}, {@code steps}, {@code scheduler},
     *          {@code guidance_scale}, {@code seed}, {@code width}, {@code height}, {@code model},
     *          {@code model_hash}, {@code plugins}, {@code guidance}, ...)
     * @return the {@code parameters} text
     */
    public static String format(Map<String, String> p) {
        return format(p, Map.of());
    }

    /**
     * Writes the text from a generation's provenance entries, with some pairs of the settings line given by the
     * caller: a host that speaks A1111's API knows the sampler and schedule type its client asked for, its
     * {@code Clip skip} and its {@code Version}.
     *
     * @param p        the provenance entries, as for {@link #format(Map)}
     * @param settings pairs of the settings line that replace the ones made from {@code p} (in their place) or are
     *                 added after them; a null value removes a pair
     * @return the {@code parameters} text
     */
    public static String format(Map<String, String> p, Map<String, String> settings) {
        StringBuilder s = new StringBuilder(p.getOrDefault("prompt", ""));
        String negative = p.getOrDefault("negative_prompt", "");
        if (!negative.isEmpty()) {
            s.append("\nNegative prompt: ").append(negative);
        }
        Map<String, String> kv = new LinkedHashMap<>();
        kv.put("Steps", p.get("steps"));
        String scheduler = p.getOrDefault("scheduler", "");
        String[] sampler = SAMPLERS.get(scheduler);
        kv.put("Sampler", sampler == null ? scheduler : sampler[0]);
        kv.put("Schedule type", sampler == null ? null : sampler[1]);
        kv.put("CFG scale", trim(p.get("guidance_scale")));
        kv.put("Seed", p.get("seed"));
        kv.put("Size", p.get("width") + "x" + p.get("height"));
        String hash = p.get("model_hash");
        kv.put("Model hash", hash == null ? null : hash.substring(0, Math.min(10, hash.length())));
        String model = p.get("model");
        kv.put("Model", model == null ? null : java.nio.file.Path.of(model).getFileName().toString());
        // as A1111 for the images of a batch: each with its own seed, its batch size and position
        kv.put("Batch size", p.get("images_per_prompt"));
        kv.put("Batch pos", p.get("images_per_prompt") == null ? null : p.get("image_index"));
        kv.put("Denoising strength", p.get("strength"));
        kv.put("Conditio scheduler", scheduler);
        kv.put("Conditio guidance", p.get("guidance"));
        kv.put("Conditio mode", p.get("mode"));
        kv.put("Conditio plugins", p.get("plugins"));
        kv.put("Conditio SPI", p.get("conditio.spi"));
        kv.put("Conditio model hash", hash);
        kv.putAll(settings);
        List<String> parts = new ArrayList<>();
        kv.forEach((k, v) -> {
            if (v != null && !v.isEmpty()) {
                parts.add(k + ": " + quote(v));
            }
        });
        s.append('\n').append(String.join(", ", parts));
        return s.toString();
    }

    /**
     * Reads the text back (A1111's own or Conditio's).
     *
     * @param text a {@code parameters} text
     * @return {@code Prompt}, {@code Negative prompt} and the keys of the last line, values unquoted
     */
    public static Map<String, String> parse(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        int last = lines.length - 1;
        while (last > 0 && lines[last].isBlank()) {
            last--;
        }
        StringBuilder prompt = new StringBuilder();
        StringBuilder negative = null;
        for (int i = 0; i < last; i++) {
            String line = lines[i];
            if (negative == null && line.startsWith("Negative prompt: ")) {
                negative = new StringBuilder(line.substring("Negative prompt: ".length()));
            } else if (negative != null) {
                negative.append('\n').append(line);
            } else {
                if (i > 0) {
                    prompt.append('\n');
                }
                prompt.append(line);
            }
        }
        out.put("Prompt", prompt.toString());
        if (negative != null) {
            out.put("Negative prompt", negative.toString());
        }
        String kv = lines[last];
        int i = 0;
        while (i < kv.length()) {
            int colon = kv.indexOf(": ", i);
            if (colon < 0) {
                break;
            }
            String key = kv.substring(i, colon).strip();
            int v = colon + 2;
            String value;
            int next;
            if (v < kv.length() && kv.charAt(v) == '"') {
                int end = v + 1;
                while (end < kv.length() && kv.charAt(end) != '"') {
                    end += kv.charAt(end) == '\\' ? 2 : 1;
                }
                value = unquote(kv.substring(v, Math.min(end + 1, kv.length())));
                next = kv.indexOf(", ", end);
            } else {
                next = kv.indexOf(", ", v);
                value = kv.substring(v, next < 0 ? kv.length() : next);
            }
            out.put(key, value);
            if (next < 0) {
                break;
            }
            i = next + 2;
        }
        return out;
    }

    /** A quoted value as JSON writes it; one that is not a valid JSON string (another tool's) is taken as it is. */
    private static String unquote(String quoted) {
        try {
            return (String) Json.parse(quoted);
        } catch (IllegalArgumentException notJson) {
            boolean closed = quoted.length() > 1 && quoted.endsWith("\"") && !quoted.endsWith("\\\"");
            return quoted.substring(1, closed ? quoted.length() - 1 : quoted.length());
        }
    }

    private static String quote(String v) {
        if (v.contains(",") || v.contains(":") || v.contains("\"") || v.contains("\n")) {
            return Json.write(v);
        }
        return v;
    }

    private static String trim(String number) {
        if (number == null) {
            return null;
        }
        return number.endsWith(".0") ? number.substring(0, number.length() - 2) : number;
    }
}
