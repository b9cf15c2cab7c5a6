package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;

/**
 * The discrete-time ports, which index {@code alphas_cumprod} by integer timesteps: DDIM, DDPM, PNDM, LCM and TCD.
 * They share diffusers' {@code alphas_cumprod} and {@code final_alpha_cumprod} (the "previous" value of the last
 * step), the installing of integer timesteps, and {@code add_noise} at the timestep. Each subclass reads its own keys,
 * spaces its timesteps and keeps its {@code step} whole.
 */
abstract class DiscreteTimeScheduler extends TimestepScheduler {
    /** {@code alphas_cumprod}, indexed by the integer timestep. */
    final float[] alphasCumprod;
    /** {@code final_alpha_cumprod}: 1 unless {@link #readSetAlphaToOne} read {@code set_alpha_to_one} false. */
    private float finalAlphaCumprod = 1f;

    /** Reads {@code prediction_type} and the noise schedule; a timestep missing from the schedule is an error. */
    DiscreteTimeScheduler(ConfigReader r, ConfigKey<String> predictionKey, NoiseSchedule.Keys scheduleKeys) {
        super(false, r, predictionKey, scheduleKeys);
        alphasCumprod = schedule.alphasCumprod();
    }

    /**
     * Reads {@code set_alpha_to_one}: {@code final_alpha_cumprod} is 1 when it is set, else {@code alphas_cumprod[0]}.
     * A port without the key (DDPM) keeps 1.
     *
     * @param key the port's {@code set_alpha_to_one}, with its default
     */
    final void readSetAlphaToOne(ConfigReader r, ConfigKey<Boolean> key) {
        finalAlphaCumprod = r.get(key) ? 1f : alphasCumprod[0];
    }

    /**
     * @param prevT the previous timestep, negative after the last
     * @return {@code alpha_prod_t_prev}: {@code alphas_cumprod[prevT]}, or {@code final_alpha_cumprod} when
     *         {@code prevT < 0}
     */
    final float previousAlphaCumprod(int prevT) {
        return prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
    }

    /**
     * The data prediction x0 at integer timestep {@code t} ({@link PredictionConversion#dataFromAlphaBar} from
     * {@code sqrt(alpha_bar_t)} and {@code sqrt(1 - alpha_bar_t)}); a new array.
     */
    final float[] predictedData(int t, float[] x, float[] m) {
        return predictedData(t, x, m, new float[x.length]);
    }

    /** {@link #predictedData(int, float[], float[])} written into {@code out}, which it returns. */
    final float[] predictedData(int t, float[] x, float[] m, float[] out) {
        float alphaProdT = alphasCumprod[t];
        return PredictionConversion.fromAlphaBar(true, predictionType, x, m, Float32.sqrt(alphaProdT),
                Float32.sqrt(1f - alphaProdT), out);
    }

    /** The noise prediction epsilon at integer timestep {@code t}, as {@link #predictedData}; a new array. */
    final float[] predictedNoise(int t, float[] x, float[] m) {
        return predictedNoise(t, x, m, new float[x.length]);
    }

    /** {@link #predictedNoise(int, float[], float[])} written into {@code out}, which it returns. */
    final float[] predictedNoise(int t, float[] x, float[] m, float[] out) {
        float alphaProdT = alphasCumprod[t];
        return PredictionConversion.fromAlphaBar(false, predictionType, x, m, Float32.sqrt(alphaProdT),
                Float32.sqrt(1f - alphaProdT), out);
    }

    /**
     * Installs the integer timesteps (DDIM, DDPM, LCM, TCD) and forgets the step index. Under epsilon prediction a
     * step from a zero-terminal-SNR timestep, where diffusers divides by zero, is refused
     * ({@link NoiseSchedule#requireNoTerminalEpsilonStep}).
     *
     * @param t the timesteps, descending
     */
    final void setIntegerTimesteps(long[] t) {
        timesteps = TimestepSpacing.toFloats(t);
        NoiseSchedule.requireNoTerminalEpsilonStep(config.className(), predictionType, alphasCumprod, timesteps);
        index.reset();
    }

    @Override
    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
        return NoiseSchedule.addNoise(alphasCumprod, original, noise, TimestepSpacing.integral(timestep));
    }

    @Override
    public FloatTensor addNoiseInto(FloatTensor original, FloatTensor noise, float timestep, FloatTensor into) {
        NoiseSchedule.addNoise(alphasCumprod, original, noise, TimestepSpacing.integral(timestep), into.array());
        return into;
    }
}
