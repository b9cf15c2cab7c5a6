package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import java.util.Arrays;
import java.util.List;

/**
 * Imagen's dynamic thresholding (arXiv 2205.11487), diffusers' {@code _threshold_sample}: per batch entry,
 * {@code s = clamp(quantile(|x0|, ratio), 1, sample_max_value)}, then {@code x0 = clamp(x0, -s, s) / s}.
 * The quantile is {@code torch.quantile}'s linear interpolation in float32.
 *
 * @param ratio          {@code dynamic_thresholding_ratio}
 * @param sampleMaxValue {@code sample_max_value}
 */
record DynamicThresholding(double ratio, double sampleMaxValue) {

    /** {@code thresholding}. */
    static final ConfigKey<Boolean> THRESHOLDING = ConfigKey.flag("thresholding", false,
            "dynamic thresholding of the predicted x0 (Imagen); not for latent models");
    /** {@code dynamic_thresholding_ratio}. */
    static final ConfigKey<Double> RATIO = ConfigKey.number("dynamic_thresholding_ratio", 0.995,
            "the quantile of |x0| dynamic thresholding clamps to").between(0, 1);
    /** {@code sample_max_value}. */
    static final ConfigKey<Double> SAMPLE_MAX_VALUE = ConfigKey.number("sample_max_value", 1.0,
            "the largest threshold of dynamic thresholding");
    /** The keys {@link #fromConfig} reads, in order. */
    static final List<ConfigKey<?>> KEYS = List.of(THRESHOLDING, RATIO, SAMPLE_MAX_VALUE);
    /** {@code clip_sample}, on by default (DDIM, DDPM). */
    static final ConfigKey<Boolean> CLIP_SAMPLE = ConfigKey.flag("clip_sample", true,
            "clip the predicted x0 to [-clip_sample_range, clip_sample_range]");
    /** {@code clip_sample_range}. */
    static final ConfigKey<Double> CLIP_SAMPLE_RANGE = ConfigKey.number("clip_sample_range", 1.0,
            "the bound clip_sample clips to");

    /** Reads {@link #KEYS}; null when {@code thresholding} is off. */
    static DynamicThresholding fromConfig(ConfigReader r) {
        boolean on = r.get(THRESHOLDING);
        double ratio = r.get(RATIO);
        double max = r.get(SAMPLE_MAX_VALUE);
        return on ? new DynamicThresholding(ratio, max) : null;
    }

    /** @return the thresholded prediction, a new tensor */
    FloatTensor apply(FloatTensor x0) {
        int batch = x0.dim(0);
        float[] in = x0.array();
        float[] out = new float[in.length];
        int per = in.length / batch;
        for (int b = 0; b < batch; b++) {
            float[] abs = new float[per];
            for (int i = 0; i < per; i++) {
                abs[i] = Math.abs(in[b * per + i]);
            }
            // torch.clamp(s, min=1, max=sample_max_value) is min(max(s, 1), max): max wins when max < 1
            float s = Math.min(Math.max(quantile(abs, (float) ratio), 1f), (float) sampleMaxValue);
            for (int i = 0; i < per; i++) {
                float v = in[b * per + i];
                out[b * per + i] = Math.min(Math.max(v, -s), s) / s;
            }
        }
        return FloatTensor.of(out, x0.shape());
    }

    /**
     * The x0 post-processing of DDIM, DDPM, LCM (and Heun, which has no thresholding): dynamic thresholding when it
     * is configured, else {@code clamp(-clip_sample_range, clip_sample_range)} when {@code clip_sample} is set, else
     * nothing.
     *
     * @param thresholding    the configured thresholding, or null
     * @param clipSample      {@code clip_sample}
     * @param clipSampleRange {@code clip_sample_range}
     */
    record X0Clipping(DynamicThresholding thresholding, boolean clipSample, float clipSampleRange) {
        /**
         * Reads, in this order, {@code clip_sample}, {@code clip_sample_range} and the thresholding keys.
         *
         * @param clipSampleKey the port's {@code clip_sample}, with its default
         */
        static X0Clipping read(ConfigReader r, ConfigKey<Boolean> clipSampleKey) {
            boolean clip = r.get(clipSampleKey);
            float range = r.get(CLIP_SAMPLE_RANGE).floatValue();
            return new X0Clipping(fromConfig(r), clip, range);
        }

        /**
         * @param shape the shape of x0
         * @return the thresholded x0 (a new array), or {@code x0} itself, clipped in place or unchanged
         */
        float[] apply(float[] x0, int[] shape) {
            if (thresholding != null) {
                return thresholding.apply(FloatTensor.of(x0, shape)).array();
            }
            if (clipSample) {
                clip(x0, clipSampleRange);
            }
            return x0;
        }
    }

    /** {@code x.clamp(-range, range)}, in place. */
    private static void clip(float[] x, float range) {
        for (int k = 0; k < x.length; k++) {
            x[k] = Math.min(Math.max(x[k], -range), range);
        }
    }

    /** {@code torch.quantile(values, q)} with linear interpolation, in float32; sorts {@code values} in place. */
    static float quantile(float[] values, float q) {
        Arrays.sort(values);
        float rank = q * (float) (values.length - 1);
        int below = (int) rank;
        float weight = rank - (float) below;
        int above = (int) Math.ceil(rank);
        return lerp(values[below], values[above], weight);
    }

    /** {@code torch.lerp} on the CPU: two formulas, chosen by the size of the weight, for accuracy at both ends. */
    static float lerp(float start, float end, float weight) {
        return Math.abs(weight) < 0.5f ? start + weight * (end - start) : end - (end - start) * (1f - weight);
    }
}
