package io.conditio.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.conditio.api.RgbImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The parts of a ControlNet unit (sd-webui-controlnet's API format) that need translating: preprocessor names, the
 * control mode and the resize mode of the control image.
 */
final class ControlNetUnits {
    /** The extension's preprocessor names and the Conditio preprocessor that does the same job. */
    private static final Map<String, String> MODULES = new LinkedHashMap<>();

    static {
        MODULES.put("canny", "canny");
        for (String n : List.of("softedge_hed", "softedge_hedsafe", "softedge_pidinet", "softedge_pidisafe",
                "softedge_teed", "softedge_anyline", "hed", "pidinet")) {
            MODULES.put(n, "softedge");
        }
        for (String n : List.of("lineart_realistic", "lineart_coarse", "lineart_standard", "lineart_anime",
                "lineart_anime_denoise")) {
            MODULES.put(n, "lineart");
        }
        for (String n : List.of("scribble_hed", "scribble_pidinet", "scribble_xdog", "fake_scribble")) {
            MODULES.put(n, "scribble");
        }
    }

    private ControlNetUnits() {
    }

    /**
     * @param module    the unit's {@code module}
     * @param available the preprocessors the loaded plugins provide
     * @param where     the unit's field, for messages
     * @param mapped    where a renamed preprocessor is reported
     * @return the Conditio preprocessor name, {@code none} for none
     */
    static String preprocessor(String module, Set<String> available, String where, Map<String, Object> mapped) {
        String given = module.strip().toLowerCase(Locale.ROOT);
        if (given.isEmpty() || given.equals("none")) {
            return "none";
        }
        if (available.contains(given) && !given.equals("depth")) {
            return given;
        }
        String ours = MODULES.get(given);
        if (ours != null && available.contains(ours)) {
            mapped.put(where + ".module", module + " -> " + ours + " (Conditio's own " + ours + " preprocessor)");
            return ours;
        }
        String hint = given.startsWith("depth") ? " (depth needs an ONNX depth model, which clients cannot name on "
                + "this server: send a depth map with module none)" : " (or send a preprocessed control image with "
                + "module none)";
        throw ApiError.badField(where + ".module", "no preprocessor '" + module + "' in Conditio; available: "
                + String.join(", ", moduleList(available)) + hint);
    }

    /** @return the module names a client may send, as /controlnet/module_list lists them */
    static List<String> moduleList(Set<String> available) {
        Set<String> out = new TreeSet<>();
        for (String n : available) {
            if (!n.equals("depth")) {
                out.add(n);
            }
        }
        MODULES.forEach((alias, ours) -> {
            if (available.contains(ours)) {
                out.add(alias);
            }
        });
        List<String> list = new ArrayList<>();
        list.add("none");
        out.remove("none");
        list.addAll(out);
        return list;
    }

    /**
     * @param v     the unit's {@code control_mode}: 0/1/2, the extension's labels, or a one-element list of either
     *              (what the webuiapi Python client sends)
     * @param where the unit's field, for messages
     * @return 0 balanced, 1 prompt more important, 2 ControlNet more important
     */
    static int controlMode(JsonNode v, String where) {
        if (v != null && v.isArray() && v.size() == 1) {
            v = v.get(0);
        }
        if (v == null || v.isNull()) {
            return 0;
        }
        if (v.isIntegralNumber() && v.asInt() >= 0 && v.asInt() <= 2) {
            return v.asInt();
        }
        if (v.isTextual()) {
            String t = v.asText().strip().toLowerCase(Locale.ROOT);
            switch (t) {
                case "balanced", "0" -> {
                    return 0;
                }
                case "my prompt is more important", "prompt", "1" -> {
                    return 1;
                }
                case "controlnet is more important", "controlnet", "control", "2" -> {
                    return 2;
                }
                default -> { }
            }
        }
        throw ApiError.badField(where + ".control_mode", v + ": expected 0, 1, 2, \"Balanced\", \"My prompt is more "
                + "important\" or \"ControlNet is more important\"");
    }

    /**
     * Brings the control image to the output size as the unit's {@code resize_mode} says: "Just Resize" (0) stretches,
     * "Crop and Resize" (1, the extension's default) scales to cover and crops the middle, "Resize and Fill" (2)
     * scales to fit and fills the rest with black (the extension fills with the image's border colours; control
     * maps have black backgrounds).
     */
    static RgbImage fit(RgbImage image, int width, int height, JsonNode resizeMode, String where,
            Map<String, Object> ignored) {
        int mode = resizeMode(resizeMode, where);
        if ((long) image.width() * height == (long) image.height() * width || mode == 0) {
            return image.resizedBilinear(width, height);
        }
        if (mode == 1) {
            double scale = Math.max((double) width / image.width(), (double) height / image.height());
            int cw = (int) Math.min(image.width(), Math.round(width / scale));
            int ch = (int) Math.min(image.height(), Math.round(height / scale));
            return crop(image, (image.width() - cw) / 2, (image.height() - ch) / 2, cw, ch)
                    .resizedBilinear(width, height);
        }
        double scale = Math.min((double) width / image.width(), (double) height / image.height());
        int sw = Math.max(1, (int) Math.round(image.width() * scale));
        int sh = Math.max(1, (int) Math.round(image.height() * scale));
        RgbImage scaled = image.resizedBilinear(Math.min(sw, width), Math.min(sh, height));
        float[] out = new float[width * height * 3];
        int x0 = (width - scaled.width()) / 2;
        int y0 = (height - scaled.height()) / 2;
        for (int y = 0; y < scaled.height(); y++) {
            System.arraycopy(scaled.pixels(), y * scaled.width() * 3, out, ((y + y0) * width + x0) * 3,
                    scaled.width() * 3);
        }
        ignored.put(where + ".resize_mode", "Resize and Fill: the border is filled with black");
        return new RgbImage(width, height, out);
    }

    private static int resizeMode(JsonNode v, String where) {
        if (v == null || v.isNull()) {
            return 1;
        }
        if (v.isIntegralNumber() && v.asInt() >= 0 && v.asInt() <= 2) {
            return v.asInt();
        }
        if (v.isTextual()) {
            switch (v.asText().strip().toLowerCase(Locale.ROOT)) {
                case "just resize", "resize", "0" -> {
                    return 0;
                }
                case "crop and resize", "inner_fit", "1" -> {
                    return 1;
                }
                case "resize and fill", "outer_fit", "2" -> {
                    return 2;
                }
                default -> { }
            }
        }
        throw ApiError.badField(where + ".resize_mode", v + ": expected 0, 1, 2, \"Just Resize\", \"Crop and "
                + "Resize\" or \"Resize and Fill\"");
    }

    private static RgbImage crop(RgbImage image, int x0, int y0, int w, int h) {
        float[] out = new float[w * h * 3];
        for (int y = 0; y < h; y++) {
            System.arraycopy(image.pixels(), ((y + y0) * image.width() + x0) * 3, out, y * w * 3, w * 3);
        }
        return new RgbImage(w, h, out);
    }
}
