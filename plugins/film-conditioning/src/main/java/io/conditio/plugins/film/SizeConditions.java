package io.conditio.plugins.film;

import io.conditio.api.InvalidRequestException;
import java.util.List;
import java.util.Map;

/**
 * SDXL's added size conditions, as diffusers' {@code _get_add_time_ids}: {@code original_size + crops_coords_top_left
 * + target_size} (each in diffusers order: height then width, top then left), or for the refiner's five-value form
 * {@code original_size + crops_coords_top_left + (aesthetic_score,)}.
 */
final class SizeConditions {
    /** Request keys that only make sense with a {@code time_ids} input. */
    static final List<String> KEYS = List.of(FilmConditioner.ORIGINAL_SIZE, FilmConditioner.CROP_TOP_LEFT,
            FilmConditioner.TARGET_SIZE, FilmConditioner.AESTHETIC_SCORE, FilmConditioner.NEGATIVE_AESTHETIC_SCORE);

    private SizeConditions() {
    }

    /**
     * @param parameters the request parameters
     * @param height     the generation's height in pixels (default for the sizes)
     * @param width      the generation's width in pixels
     * @return the six time ids {@code [orig_h, orig_w, crop_top, crop_left, target_h, target_w]}
     */
    static float[] timeIds(Map<String, Object> parameters, int height, int width) {
        float[] orig = pair(parameters, FilmConditioner.ORIGINAL_SIZE, "--original-size", height, width);
        float[] crop = pair(parameters, FilmConditioner.CROP_TOP_LEFT, "--crop-top-left", 0, 0);
        float[] target = pair(parameters, FilmConditioner.TARGET_SIZE, "--target-size", height, width);
        return new float[] {orig[0], orig[1], crop[0], crop[1], target[0], target[1]};
    }

    /**
     * The refiner form (UNets whose {@code time_ids} has five columns).
     *
     * @param parameters the request parameters
     * @param height     the generation's height
     * @param width      the generation's width
     * @param negative   true for a branch that drops the condition (gets {@code negative_aesthetic_score})
     * @return {@code [orig_h, orig_w, crop_top, crop_left, aesthetic_score]}
     */
    static float[] refinerTimeIds(Map<String, Object> parameters, int height, int width, boolean negative) {
        float[] orig = pair(parameters, FilmConditioner.ORIGINAL_SIZE, "--original-size", height, width);
        float[] crop = pair(parameters, FilmConditioner.CROP_TOP_LEFT, "--crop-top-left", 0, 0);
        float score = negative
                ? number(parameters, FilmConditioner.NEGATIVE_AESTHETIC_SCORE, 2.5)
                : number(parameters, FilmConditioner.AESTHETIC_SCORE, 6.0);
        return new float[] {orig[0], orig[1], crop[0], crop[1], score};
    }

    private static float number(Map<String, Object> parameters, String key, double fallback) {
        Object v = parameters.get(key);
        if (v == null) {
            return (float) fallback;
        }
        if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
            throw new InvalidRequestException("request parameter '" + key + "' must be a finite number, got " + v);
        }
        return n.floatValue();
    }

    private static float[] pair(Map<String, Object> parameters, String key, String flag, int first, int second) {
        Object v = parameters.get(key);
        if (v == null) {
            return new float[] {first, second};
        }
        if (v instanceof List<?> list && list.size() == 2 && list.get(0) instanceof Number a
                && list.get(1) instanceof Number b && Double.isFinite(a.doubleValue())
                && Double.isFinite(b.doubleValue())) {
            return new float[] {a.floatValue(), b.floatValue()};
        }
        throw new InvalidRequestException("request parameter '" + key + "' (" + flag + ") must be a list of two "
                + "numbers in diffusers order (height, width / top, left), got " + v);
    }
}
