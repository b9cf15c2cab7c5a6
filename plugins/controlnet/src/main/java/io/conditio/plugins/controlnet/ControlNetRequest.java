package io.conditio.plugins.controlnet;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One entry of the {@code controlnets} request parameter, validated.
 *
 * @param model      the ControlNet folder (holding {@code model.onnx}) or {@code .onnx} file
 * @param image      the control image as given
 * @param scale      {@code conditioning_scale}
 * @param start      control guidance start, a fraction of the steps
 * @param end        control guidance end, a fraction of the steps
 * @param guessMode  diffusers' guess mode
 * @param preprocess the control preprocessor's name ({@code none}: the image as given)
 * @param preprocessModels the model files for the preprocessor (ONNX preprocessors such as {@code depth})
 */
record ControlNetRequest(Path model, RgbImage image, double scale, double start, double end, boolean guessMode,
        String preprocess, List<Path> preprocessModels) {
    static final Set<String> KEYS = Set.of(ControlNetConditioner.MODEL, ControlNetConditioner.IMAGE,
            ControlNetConditioner.SCALE, ControlNetConditioner.START, ControlNetConditioner.END,
            ControlNetConditioner.GUESS_MODE, ControlNetConditioner.PREPROCESS,
            ControlNetConditioner.PREPROCESS_MODELS);

    /**
     * @param value the {@code controlnets} request parameter (null when absent)
     * @return the entries, in order; empty when absent
     * @throws InvalidRequestException naming the entry and key that is wrong
     */
    static List<ControlNetRequest> parse(Object value) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw new InvalidRequestException("request parameter '" + ControlNetConditioner.CONTROLNETS
                    + "' must be a List of Maps (one per ControlNet), got " + value.getClass().getSimpleName());
        }
        List<ControlNetRequest> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> map)) {
                throw new InvalidRequestException("request parameter '" + ControlNetConditioner.CONTROLNETS + "' entry "
                        + i + " must be a Map with keys " + sorted(KEYS) + ", got " + list.get(i));
            }
            out.add(parseOne(i, map));
        }
        return out;
    }

    private static List<String> sorted(Set<String> keys) {
        return keys.stream().sorted().toList();
    }

    private static ControlNetRequest parseOne(int index, Map<?, ?> map) {
        String where = "ControlNet " + index + " (request parameter '" + ControlNetConditioner.CONTROLNETS + "')";
        for (Object k : map.keySet()) {
            if (!KEYS.contains(String.valueOf(k))) {
                throw new InvalidRequestException(where + ": unknown key '" + k + "'; the keys are "
                        + sorted(KEYS));
            }
        }
        Object model = map.get(ControlNetConditioner.MODEL);
        Path path;
        if (model instanceof Path p) {
            path = p;
        } else if (model instanceof String s && !s.isBlank()) {
            path = Path.of(s);
        } else {
            throw new InvalidRequestException(where + ": '" + ControlNetConditioner.MODEL + "' (--controlnet) must "
                    + "be the Path of a ControlNet folder or .onnx file, got " + model);
        }
        Object image = map.get(ControlNetConditioner.IMAGE);
        if (!(image instanceof RgbImage rgb)) {
            throw new InvalidRequestException(where + ": '" + ControlNetConditioner.IMAGE + "' (--control-image) "
                    + "must be an RgbImage, got " + (image == null ? "nothing" : image.getClass().getSimpleName()));
        }
        double scale = number(map, ControlNetConditioner.SCALE, "--control-scale", 1.0, where);
        double start = number(map, ControlNetConditioner.START, "--control-start", 0.0, where);
        double end = number(map, ControlNetConditioner.END, "--control-end", 1.0, where);
        if (start < 0 || end > 1 || start >= end) {
            throw new InvalidRequestException(where + ": --control-start " + start + " and --control-end " + end
                    + " must satisfy 0 <= start < end <= 1 (fractions of the steps)");
        }
        Object guess = map.get(ControlNetConditioner.GUESS_MODE);
        if (guess != null && !(guess instanceof Boolean)) {
            throw new InvalidRequestException(where + ": '" + ControlNetConditioner.GUESS_MODE + "' (--guess-mode) "
                    + "must be a Boolean, got " + guess);
        }
        Object pre = map.get(ControlNetConditioner.PREPROCESS);
        String preprocess = pre == null ? "none" : String.valueOf(pre).toLowerCase(Locale.ROOT);
        return new ControlNetRequest(path, rgb, scale, start, end, Boolean.TRUE.equals(guess), preprocess,
                paths(map.get(ControlNetConditioner.PREPROCESS_MODELS), where));
    }

    static List<Path> paths(Object v, String where) {
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw new InvalidRequestException(where + ": '" + ControlNetConditioner.PREPROCESS_MODELS
                    + "' (--preprocess-model) must be a List of Paths, got " + v);
        }
        List<Path> out = new ArrayList<>();
        for (Object o : list) {
            if (o instanceof Path p) {
                out.add(p);
            } else if (o instanceof String s && !s.isBlank()) {
                out.add(Path.of(s));
            } else {
                throw new InvalidRequestException(where + ": '" + ControlNetConditioner.PREPROCESS_MODELS
                        + "' entries must be Paths, got " + o);
            }
        }
        return List.copyOf(out);
    }

    private static double number(Map<?, ?> map, String key, String flag, double fallback, String where) {
        Object v = map.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
            return n.doubleValue();
        }
        throw new InvalidRequestException(where + ": '" + key + "' (" + flag + ") must be a finite number, got " + v);
    }

    /**
     * diffusers' {@code controlnet_keep}: {@code 1 - float(i / n < start or (i + 1) / n > end)}.
     *
     * @param step  the step index
     * @param steps the number of model calls ({@code len(timesteps)})
     * @return true when this ControlNet acts on the step
     */
    boolean activeAt(int step, int steps) {
        return !((double) step / steps < start || (double) (step + 1) / steps > end);
    }
}
