package io.conditio.plugins.lora;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.TensorFiles;
import io.conditio.api.WeightPatch;
import io.conditio.api.WeightPatchContext;
import io.conditio.api.WeightPatcher;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.pf4j.Extension;

/**
 * LoRA through the weight-patch hook. A request names LoRA files in the parameter {@value #PARAMETER} (a string
 * {@code FILE[:SCALE]}, several separated by {@code ;}, or a list of such strings; the CLI's {@code --lora}) and in the
 * prompt as A1111 users write it, {@code <lora:NAME:SCALE>}, NAME being looked up as
 * {@code loras/NAME.safetensors} in the model folder. Every LoRA keeps its own scale (default 1). Keys for the UNet
 * patch every UNet variant of the folder ({@code unet}, {@code unet-inpaint}, ...); keys for {@code text_encoder} and
 * {@code text_encoder_2} patch those, keys for the VAE ({@code lora_vae_}, {@code vae.}) patch {@code vae_decoder},
 * so a LoRA can change how latents decode while it is loaded. A key that matches no weight, or names a component the
 * folder lacks, is an error listing the keys.
 */
@Extension(ordinal = 50)
public final class LoraPatcher implements WeightPatcher {
    /** The request parameter naming LoRA files. */
    public static final String PARAMETER = "lora";
    private static final Pattern TAG = Pattern.compile("<lora:([^:<>]+)(?::([^:<>]+))?>");

    private record Loaded(long size, long modified, String sha256, List<LoraFile.Module> modules) {
    }

    /**
     * A LoRA asked for by a request.
     *
     * @param file  the file
     * @param scale its multiplier
     */
    record Use(Path file, float scale) {
    }

    private final Map<Path, Loaded> cache = new ConcurrentHashMap<>();

    @Override
    public String id() {
        return "lora";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(ParameterDeclaration.builder(PARAMETER, ParameterType.STRING).listOrSingle()
                .description("LoRA files as FILE[:SCALE] (several in one text separated by ;), merged into the "
                        + "UNet, text encoders and VAE decoder (--lora)").build());
    }

    @Override
    public Optional<WeightPatch> patch(WeightPatchContext context) {
        List<Use> uses = uses(context);
        if (uses.isEmpty()) {
            return Optional.empty();
        }
        String component = context.component();
        String family = component.startsWith("unet") ? "unet" : component;
        List<Map.Entry<LoraFile.Module, Float>> mine = new ArrayList<>();
        StringBuilder key = new StringBuilder("lora");
        List<String> missingComponents = new ArrayList<>();
        for (Use u : uses) {
            Loaded l = load(u.file(), context.tensorFiles());
            key.append('[').append(u.file().getFileName()).append('#').append(l.sha256(), 0, 16).append('@')
                    .append(u.scale()).append(']');
            for (LoraFile.Module m : l.modules()) {
                if (m.component().equals(family)) {
                    mine.add(new AbstractMap.SimpleImmutableEntry<>(m, u.scale()));
                } else if (!Files.isRegularFile(context.modelFolder().resolve(m.component()).resolve("model.onnx"))) {
                    missingComponents.add(m.key() + " (" + u.file().getFileName() + ": no " + m.component() + ")");
                }
            }
        }
        if (!missingComponents.isEmpty()) {
            throw new InvalidRequestException("LoRA keys for components " + context.modelFolder()
                    + " does not have: " + LoraFile.preview(missingComponents));
        }
        if (mine.isEmpty()) {
            return Optional.empty();
        }
        LoraMerge.Result r = LoraMerge.merge(context.graph(), mine);
        if (!r.unmatched().isEmpty()) {
            throw new InvalidRequestException(r.unmatched().size() + " of " + mine.size() + " LoRA keys for "
                    + component + " match no weight of " + context.modelFolder().resolve(component)
                    + " (matched through node names, e.g. /down_blocks.0/attentions.0/.../to_q/MatMul): "
                    + LoraFile.preview(r.unmatched()));
        }
        Map<String, FloatTensor> weights = new LinkedHashMap<>(r.weights());
        List<String> report = new ArrayList<>();
        report.add(component + ": " + r.matched().size() + " LoRA keys matched " + weights.size() + " weights");
        report.addAll(r.matched());
        return Optional.of(new WeightPatch(key.toString(), weights, report));
    }

    /** The LoRAs a request asks for: the parameter first, then the prompt's tags. */
    static List<Use> uses(WeightPatchContext context) {
        List<Use> out = new ArrayList<>();
        Object p = context.request().parameters().get(PARAMETER);
        List<String> specs = new ArrayList<>();
        if (p instanceof String s) {
            for (String part : s.split(";")) {
                if (!part.isBlank()) {
                    specs.add(part.trim());
                }
            }
        } else if (p instanceof List<?> list) {
            for (Object o : list) {
                specs.add(String.valueOf(o));
            }
        } else if (p != null) {
            throw new InvalidRequestException("request parameter 'lora' is a " + p.getClass().getSimpleName()
                    + "; expected FILE[:SCALE] strings");
        }
        for (String spec : specs) {
            out.add(parseSpec(spec));
        }
        Matcher m = TAG.matcher(context.request().prompt());
        while (m.find()) {
            String name = m.group(1).trim();
            float scale = m.group(2) == null ? 1f : number(m.group(2).trim(), m.group());
            Path dir = context.modelFolder().resolve("loras");
            Path file = dir.resolve(name.toLowerCase(Locale.ROOT).endsWith(".safetensors") ? name
                    : name + ".safetensors");
            if (!file.normalize().startsWith(dir.normalize())) {
                throw new InvalidRequestException("prompt tag " + m.group() + " names a file outside " + dir);
            }
            if (!Files.isRegularFile(file)) {
                throw new InvalidRequestException("prompt tag " + m.group() + ": no " + file.getFileName() + " in "
                        + dir);
            }
            out.add(new Use(file, scale));
        }
        return out;
    }

    static Use parseSpec(String spec) {
        int colon = spec.lastIndexOf(':');
        if (colon > 1) {  // "C:\\..." keeps its drive letter
            String tail = spec.substring(colon + 1);
            try {
                return new Use(Path.of(spec.substring(0, colon)), Float.parseFloat(tail));
            } catch (NumberFormatException e) {
                // no scale: the colon belongs to the path
            }
        }
        return new Use(Path.of(spec), 1f);
    }

    private static float number(String s, String where) {
        try {
            float v = Float.parseFloat(s);
            if (!Float.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(where + ": scale '" + s + "' is not a number");
        }
    }

    private Loaded load(Path file, TensorFiles reader) {
        Path abs = file.toAbsolutePath().normalize();
        long size;
        long modified;
        try {
            size = Files.size(abs);
            modified = Files.getLastModifiedTime(abs).toMillis();
        } catch (IOException e) {
            // the reader names the problem (missing file, pickled file)
            reader.readSafetensors(abs);
            throw new InvalidRequestException("could not read " + abs + ": " + e.getMessage());
        }
        Loaded l = cache.get(abs);
        if (l != null && l.size() == size && l.modified() == modified) {
            return l;
        }
        List<LoraFile.Module> modules = LoraFile.parse(abs, reader.readSafetensors(abs));
        Loaded fresh = new Loaded(size, modified, sha256(abs), modules);
        cache.put(abs, fresh);
        return fresh;
    }

    private static String sha256(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file),
                MessageDigest.getInstance("SHA-256"))) {
            byte[] buf = new byte[1 << 16];
            DigestInputStream d = (DigestInputStream) in;
            while (d.read(buf) >= 0) {
                // digesting
            }
            return HexFormat.of().formatHex(d.getMessageDigest().digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new InvalidRequestException("could not read " + file + ": " + e.getMessage());
        }
    }
}
