package io.conditio.plugins.lora;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The low-rank modules of one LoRA file, in either naming:
 * <ul>
 *   <li>kohya / A1111: {@code lora_unet_<module path, dots as underscores>.lora_down.weight} [r, in(, kh, kw)],
 *   {@code .lora_up.weight} [out, r(, 1, 1)], {@code .alpha}; text encoders {@code lora_te_}, SDXL's
 *   {@code lora_te1_} / {@code lora_te2_};</li>
 *   <li>diffusers / PEFT: {@code unet.<module path>.lora_A.weight} (down) and {@code .lora_B.weight} (up),
 *   {@code text_encoder.} / {@code text_encoder_2.}, an optional {@code .alpha}.</li>
 * </ul>
 * A missing alpha means alpha = rank (scale 1).
 */
final class LoraFile {

    /**
     * One low-rank module.
     *
     * @param key       the key prefix in the file (for reports)
     * @param component {@code unet}, {@code text_encoder} or {@code text_encoder_2}
     * @param path      the module path: dotted (PEFT) or with underscores (kohya)
     * @param kohya     whether {@link #path} uses underscores for dots
     * @param down      [r, in(, kh, kw)]
     * @param up        [out, r(, 1, 1)]
     * @param alpha     alpha (the scale is alpha / r)
     */
    record Module(String key, String component, String path, boolean kohya, FloatTensor down, FloatTensor up,
                  float alpha) {
        int rank() {
            return down.dim(0);
        }
    }

    private LoraFile() {
    }

    static List<Module> parse(Path file, Map<String, FloatTensor> tensors) {
        Map<String, FloatTensor[]> parts = new LinkedHashMap<>();
        Map<String, Float> alphas = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, FloatTensor> e : tensors.entrySet()) {
            String k = e.getKey();
            String prefix;
            int slot;
            if (k.endsWith(".lora_down.weight")) {
                prefix = k.substring(0, k.length() - ".lora_down.weight".length());
                slot = 0;
            } else if (k.endsWith(".lora_up.weight")) {
                prefix = k.substring(0, k.length() - ".lora_up.weight".length());
                slot = 1;
            } else if (k.endsWith(".lora_A.weight")) {
                prefix = k.substring(0, k.length() - ".lora_A.weight".length());
                slot = 0;
            } else if (k.endsWith(".lora_B.weight")) {
                prefix = k.substring(0, k.length() - ".lora_B.weight".length());
                slot = 1;
            } else if (k.endsWith(".alpha")) {
                FloatTensor a = e.getValue();
                if (a.size() != 1) {
                    throw new InvalidRequestException(file + ": " + k + " should be a scalar, has shape "
                            + java.util.Arrays.toString(a.shape()));
                }
                alphas.put(k.substring(0, k.length() - ".alpha".length()), a.array()[0]);
                continue;
            } else {
                unknown.add(k);
                continue;
            }
            parts.computeIfAbsent(prefix, p -> new FloatTensor[2])[slot] = e.getValue();
        }
        if (!unknown.isEmpty()) {
            throw new InvalidRequestException(file + " holds keys that are not LoRA weights (expected "
                    + ".lora_down/.lora_up/.alpha or .lora_A/.lora_B): " + preview(unknown));
        }
        List<Module> out = new ArrayList<>();
        for (Map.Entry<String, FloatTensor[]> e : parts.entrySet()) {
            String prefix = e.getKey();
            FloatTensor[] du = e.getValue();
            if (du[0] == null || du[1] == null) {
                throw new InvalidRequestException(file + ": " + prefix + " has " + (du[0] == null ? "no down (A)"
                        : "no up (B)") + " matrix");
            }
            FloatTensor down = du[0];
            FloatTensor up = du[1];
            if (down.rank() < 2 || up.rank() < 2 || up.dim(1) != down.dim(0)) {
                throw new InvalidRequestException(file + ": " + prefix + " down " + java.util.Arrays.toString(
                        down.shape()) + " and up " + java.util.Arrays.toString(up.shape()) + " do not share a rank");
            }
            String[] cp = componentAndPath(prefix);
            if (cp == null) {
                throw new InvalidRequestException(file + ": " + prefix + " names no known component (expected"
                        + " lora_unet_, lora_te_, lora_te1_, lora_te2_, unet., text_encoder. or text_encoder_2.)");
            }
            float alpha = alphas.getOrDefault(prefix, (float) down.dim(0));
            out.add(new Module(prefix, cp[0], cp[1], cp[2] != null, down, up, alpha));
        }
        if (out.isEmpty()) {
            throw new InvalidRequestException(file + " holds no LoRA modules");
        }
        return out;
    }

    private static String[] componentAndPath(String prefix) {
        String p = prefix.startsWith("base_model.model.") ? prefix.substring("base_model.model.".length()) : prefix;
        String[][] kohya = {{"lora_unet_", "unet"}, {"lora_te1_", "text_encoder"}, {"lora_te2_", "text_encoder_2"},
                {"lora_te_", "text_encoder"}};
        for (String[] k : kohya) {
            if (p.startsWith(k[0])) {
                return new String[] {k[1], p.substring(k[0].length()), "kohya"};
            }
        }
        String[][] peft = {{"unet.", "unet"}, {"text_encoder_2.", "text_encoder_2"}, {"text_encoder.", "text_encoder"}};
        for (String[] k : peft) {
            if (p.startsWith(k[0])) {
                return new String[] {k[1], p.substring(k[0].length()), null};
            }
        }
        return null;
    }

    static String preview(List<String> keys) {
        return keys.size() <= 12 ? String.join(", ", keys)
                : String.join(", ", keys.subList(0, 12)) + " … (" + keys.size() + " in all)";
    }
}
