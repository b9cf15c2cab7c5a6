package io.conditio.plugins.t2iadapter;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One entry of the {@code t2i_adapters} request parameter, validated.
 *
 * @param model            the adapter folder (holding {@code model.onnx}) or {@code .onnx} file
 * @param image            the condition image as given
 * @param scale            {@code adapter_conditioning_scale}
 * @param factor           {@code adapter_conditioning_factor}: the features act while the step index is below
 *                         {@code int(steps × factor)}
 * @param preprocess       the control preprocessor's name ({@code none}: the image as given)
 * @param preprocessModels the preprocessor's model files
 */
record AdapterRequest(Path model, RgbImage image, double scale, double factor, String preprocess,
        List<Path> preprocessModels) {
    static final Set<String> KEYS = Set.of(T2IAdapterConditioner.MODEL, T2IAdapterConditioner.IMAGE,
            T2IAdapterConditioner.SCALE, T2IAdapterConditioner.FACTOR, T2IAdapterConditioner.PREPROCESS,
            T2IAdapterConditioner.PREPROCESS_MODELS);

    static List<AdapterRequest> parse(Object value) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw new InvalidRequestException("request parameter '" + T2IAdapterConditioner.ADAPTERS
                    + "' must be a List of Maps (one per T2I-Adapter), got " + value.getClass().getSimpleName());
        }
        List<AdapterRequest> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> map)) {
                throw new InvalidRequestException("request parameter '" + T2IAdapterConditioner.ADAPTERS + "' entry "
                        + i + " must be a Map with keys " + KEYS.stream().sorted().toList() + ", got " + list.get(i));
            }
            out.add(parseOne(i, map));
        }
        return out;
    }

    private static AdapterRequest parseOne(int index, Map<?, ?> map) {
        String where = "T2I-Adapter " + index + " (request parameter '" + T2IAdapterConditioner.ADAPTERS + "')";
        for (Object k : map.keySet()) {
            if (!KEYS.contains(String.valueOf(k))) {
                throw new InvalidRequestException(where + ": unknown key '" + k + "'; the keys are "
                        + KEYS.stream().sorted().toList());
            }
        }
        Path path = path(map.get(T2IAdapterConditioner.MODEL), where + ": '" + T2IAdapterConditioner.MODEL
                + "' (--t2i-adapter) must be the Path of an adapter folder or .onnx file");
        Object image = map.get(T2IAdapterConditioner.IMAGE);
        if (!(image instanceof RgbImage rgb)) {
            throw new InvalidRequestException(where + ": '" + T2IAdapterConditioner.IMAGE + "' (--adapter-image) "
                    + "must be an RgbImage, got " + (image == null ? "nothing" : image.getClass().getSimpleName()));
        }
        double scale = number(map, T2IAdapterConditioner.SCALE, "--adapter-scale", 1.0, where);
        double factor = number(map, T2IAdapterConditioner.FACTOR, "--adapter-factor", 1.0, where);
        if (factor < 0 || factor > 1) {
            throw new InvalidRequestException(where + ": --adapter-factor " + factor
                    + " must be in [0, 1] (the fraction of the steps the adapter acts on)");
        }
        Object pre = map.get(T2IAdapterConditioner.PREPROCESS);
        String preprocess = pre == null ? "none" : String.valueOf(pre).toLowerCase(Locale.ROOT);
        Object models = map.get(T2IAdapterConditioner.PREPROCESS_MODELS);
        List<Path> files = new ArrayList<>();
        if (models != null) {
            if (!(models instanceof List<?> l)) {
                throw new InvalidRequestException(where + ": '" + T2IAdapterConditioner.PREPROCESS_MODELS
                        + "' (--preprocess-model) must be a List of Paths, got " + models);
            }
            for (Object o : l) {
                files.add(path(o, where + ": '" + T2IAdapterConditioner.PREPROCESS_MODELS
                        + "' entries must be Paths"));
            }
        }
        return new AdapterRequest(path, rgb, scale, factor, preprocess, List.copyOf(files));
    }

    private static Path path(Object o, String message) {
        if (o instanceof Path p) {
            return p;
        }
        if (o instanceof String s && !s.isBlank()) {
            return Path.of(s);
        }
        throw new InvalidRequestException(message + ", got " + o);
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
     * diffusers' SDXL adapter pipeline: {@code i < int(num_inference_steps * adapter_conditioning_factor)}.
     *
     * @param step           the step index
     * @param inferenceSteps the number of inference steps
     * @return true when the features act on the step
     */
    boolean activeAt(int step, int inferenceSteps) {
        return step < (int) (inferenceSteps * factor);
    }
}
