package io.conditio.plugins.controlnet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The few top-level entries this plugin needs from a diffusers {@code config.json} (a UNet's or a ControlNet's:
 * {@code layers_per_block}, {@code block_out_channels}, {@code global_pool_conditions}), read with a small pattern
 * match rather than a full JSON parser; diffusers writes these configs as flat objects.
 */
final class ConfigValues {
    private static final ConfigValues EMPTY = new ConfigValues(null, "");

    private final Path file;
    private final String text;

    private ConfigValues(Path file, String text) {
        this.file = file;
        this.text = text;
    }

    /** @return values that know nothing */
    static ConfigValues empty() {
        return EMPTY;
    }

    /**
     * @param text config text
     * @return values parsed from it
     */
    static ConfigValues of(String text) {
        return new ConfigValues(null, text);
    }

    /**
     * Reads the first {@code config.json} found beside a model file: in the file's folder, then (for a symbolic link)
     * in the folder of the link's target.
     *
     * @param modelFile a model file, e.g. {@code unet/model.onnx}
     * @return the values, or {@link #empty()} when no readable config exists
     */
    static ConfigValues beside(Path modelFile) {
        List<Path> candidates = new ArrayList<>();
        Path parent = modelFile.toAbsolutePath().getParent();
        if (parent != null) {
            candidates.add(parent.resolve("config.json"));
        }
        try {
            Path real = modelFile.toRealPath().getParent();
            if (real != null) {
                candidates.add(real.resolve("config.json"));
            }
        } catch (IOException | RuntimeException e) {
            // the model file itself is checked by whoever loaded it
        }
        for (Path c : candidates) {
            if (Files.isRegularFile(c)) {
                try {
                    return new ConfigValues(c, Files.readString(c));
                } catch (IOException e) {
                    // an unreadable config counts as absent
                }
            }
        }
        return EMPTY;
    }

    /** @return the config file read, if any */
    Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /**
     * @param key a top-level key
     * @return its integer value, empty when absent, null or not an integer
     */
    OptionalLong integer(String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(-?\\d+)\\s*[,}\\s]").matcher(text);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    /**
     * @param key a top-level key
     * @return its list of integers, empty when absent or not such a list
     */
    Optional<List<Integer>> integers(String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[([-\\d,\\s]*)\\]").matcher(text);
        if (!m.find()) {
            return Optional.empty();
        }
        List<Integer> out = new ArrayList<>();
        for (String part : m.group(1).split(",")) {
            if (!part.isBlank()) {
                out.add(Integer.parseInt(part.trim()));
            }
        }
        return Optional.of(out);
    }

    /**
     * @param key a top-level key
     * @return true only when the key is present with the value {@code true}
     */
    boolean flag(String key) {
        return Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*true\\b").matcher(text).find();
    }
}
