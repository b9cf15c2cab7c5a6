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
 *   {@code text_encoder.} / {@code text_encoder_2.}, an optional {@code .alpha};</li>
 *   <li>the VAE decoder in either naming: {@code lora_vae_<path>} or {@code vae.<path>}, the path as in diffusers'
 *   {@code AutoencoderKL} ({@code decoder.up_blocks.0.resnets.0.conv1}, {@code post_quant_conv}).</li>
 * </ul>
 * Besides the low-rank pair a module may carry full deltas in LyCORIS' naming: {@code .diff} (the weight delta in
 * the torch layout, [out, in(, kh, kw)]) and {@code .diff_b} (the bias delta, [out]); they are added times the
 * LoRA's scale, without alpha / r. A missing alpha means alpha = rank (scale 1).
 */
final class LoraFile {
    /** The component that {@code lora_vae_} and {@code vae.} keys patch. */
    static final String VAE = "vae_decoder";

    /**
     * One low-rank module.
     *
     * @param key       the key prefix in the file (for reports)
     * @param component {@code unet}, {@code text_encoder} or {@code text_encoder_2}
     * @param path      the module path: dotted (PEFT) or with underscores (kohya)
     * @param kohya     whether {@link #path} uses underscores for dots
     * @param down      [r, in(, kh, kw)], or null when the module has no low-rank pair
     * @param up        [out, r(, 1, 1)], or null with {@code down}
     * @param alpha     alpha (the scale is alpha / r)
     * @param diff      a full weight delta [out, in(, kh, kw)], or null
     * @param diffBias  a bias delta [out], or null
     */
    record Module(String key, String component, String path, boolean kohya, FloatTensor down, FloatTensor up,
                  float alpha, FloatTensor diff, FloatTensor diffBias) {
        Module(String key, String component, String path, boolean kohya, FloatTensor down, FloatTensor up,
               float alpha) {
            this(key, component, path, kohya, down, up, alpha, null, null);
        }

        int rank() {
            return down == null ? 0 : down.dim(0);
        }
    }

    /** The suffixes of a module's tensors, by slot: down, up, diff, diff_b. */
    private static final String[][] SUFFIXES = {{".lora_down.weight", "0"}, {".lora_up.weight", "1"},
            {".lora_A.weight", "0"}, {".lora_B.weight", "1"}, {".diff_b", "3"}, {".diff", "2"}};

    private LoraFile() {
    }

    static List<Module> parse(Path file, Map<String, FloatTensor> tensors) {
        Map<String, FloatTensor[]> parts = new LinkedHashMap<>();
        Map<String, Float> alphas = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, FloatTensor> e : tensors.entrySet()) {
            String k = e.getKey();
            String prefix = null;
            int slot = -1;
            for (String[] suffix : SUFFIXES) {
                if (k.endsWith(suffix[0])) {
                    prefix = k.substring(0, k.length() - suffix[0].length());
                    slot = Integer.parseInt(suffix[1]);
                    break;
                }
            }
            if (prefix == null && k.endsWith(".alpha")) {
                FloatTensor a = e.getValue();
                if (a.size() != 1) {
                    throw new InvalidRequestException(file + ": " + k + " should be a scalar, has shape "
                            + java.util.Arrays.toString(a.shape()));
                }
                alphas.put(k.substring(0, k.length() - ".alpha".length()), a.array()[0]);
                continue;
            } else if (prefix == null) {
                unknown.add(k);
                continue;
            }
            parts.computeIfAbsent(prefix, p -> new FloatTensor[4])[slot] = e.getValue();
        }
        if (!unknown.isEmpty()) {
            throw new InvalidRequestException(file + " holds keys that are not LoRA weights (expected "
                    + ".lora_down/.lora_up/.alpha, .lora_A/.lora_B, .diff or .diff_b): " + preview(unknown));
        }
        List<Module> out = new ArrayList<>();
        for (Map.Entry<String, FloatTensor[]> e : parts.entrySet()) {
            String prefix = e.getKey();
            FloatTensor[] du = e.getValue();
            if ((du[0] == null) != (du[1] == null)) {
                throw new InvalidRequestException(file + ": " + prefix + " has " + (du[0] == null ? "no down (A)"
                        : "no up (B)") + " matrix");
            }
            FloatTensor down = du[0];
            FloatTensor up = du[1];
            if (down != null && (down.rank() < 2 || up.rank() < 2 || up.dim(1) != down.dim(0))) {
                throw new InvalidRequestException(file + ": " + prefix + " down " + java.util.Arrays.toString(
                        down.shape()) + " and up " + java.util.Arrays.toString(up.shape()) + " do not share a rank");
            }
            if (du[3] != null && du[3].rank() != 1) {
                throw new InvalidRequestException(file + ": " + prefix + ".diff_b should be a vector [out], has shape "
                        + java.util.Arrays.toString(du[3].shape()));
            }
            String[] cp = componentAndPath(prefix);
            if (cp == null) {
                throw new InvalidRequestException(file + ": " + prefix + " names no known component (expected"
                        + " lora_unet_, lora_te_, lora_te1_, lora_te2_, lora_vae_, unet., text_encoder., "
                        + "text_encoder_2. or vae.)");
            }
            if (cp[0].equals(VAE) && isEncoderPath(cp[1], cp[2] != null)) {
                throw new InvalidRequestException(file + ": " + prefix + " is a VAE encoder weight; only the VAE "
                        + "decoder (decoder., post_quant_conv) is patched");
            }
            float alpha = alphas.getOrDefault(prefix, down == null ? 1f : (float) down.dim(0));
            out.add(new Module(prefix, cp[0], cp[1], cp[2] != null, down, up, alpha, du[2], du[3]));
        }
        if (out.isEmpty()) {
            throw new InvalidRequestException(file + " holds no LoRA modules");
        }
        return out;
    }

    private static boolean isEncoderPath(String path, boolean kohya) {
        String sep = kohya ? "_" : ".";
        return path.startsWith("encoder" + sep) || path.equals("quant_conv");
    }

    private static String[] componentAndPath(String prefix) {
        String p = prefix.startsWith("base_model.model.") ? prefix.substring("base_model.model.".length()) : prefix;
        String[][] kohya = {{"lora_unet_", "unet"}, {"lora_te1_", "text_encoder"}, {"lora_te2_", "text_encoder_2"},
                {"lora_te_", "text_encoder"}, {"lora_vae_", VAE}};
        for (String[] k : kohya) {
            if (p.startsWith(k[0])) {
                return new String[] {k[1], p.substring(k[0].length()), "kohya"};
            }
        }
        String[][] peft = {{"unet.", "unet"}, {"text_encoder_2.", "text_encoder_2"}, {"text_encoder.", "text_encoder"},
                {"vae.", VAE}};
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
