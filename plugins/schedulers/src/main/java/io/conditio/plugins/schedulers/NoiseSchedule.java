package io.conditio.plugins.schedulers;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;

/**
 * The training noise schedule shared by the discrete-time schedulers: {@code betas}, {@code alphas = 1 - betas} and
 * {@code alphas_cumprod}, built as diffusers builds them in each scheduler's {@code __init__}.
 *
 * <p>Rounding follows torch on the CPU: betas are float32 ({@code torch.linspace} in float32, see
 * {@link #linspaceFloat32}), {@code alphas} is {@code 1 - betas} in float32, and {@code torch.cumprod} accumulates in
 * double and rounds each prefix product to float32. That last detail decides the fourth significant digit of the
 * large-magnitude parity sums, so it is not optional.
 */
final class NoiseSchedule {
    /** The beta schedules diffusers knows by name. */
    static final String[] BETA_SCHEDULES = {"linear", "scaled_linear", "squaredcos_cap_v2"};

    private final float[] betas;
    private final float[] alphas;
    private final float[] alphasCumprod;
    private final boolean zeroTerminalSnr;
    private final String betaSchedule;

    private NoiseSchedule(float[] betas, boolean zeroTerminalSnr, String betaSchedule) {
        this.betas = betas;
        this.betaSchedule = betaSchedule;
        this.zeroTerminalSnr = zeroTerminalSnr;
        this.alphas = new float[betas.length];
        for (int i = 0; i < betas.length; i++) {
            alphas[i] = 1f - betas[i];
        }
        this.alphasCumprod = cumprod(alphas);
    }

    /** {@code set_alpha_to_one} (DDIM, PNDM, LCM, TCD): the "previous" alphas_cumprod of the last step. */
    static final ConfigKey<Boolean> SET_ALPHA_TO_ONE = ConfigKey.flag("set_alpha_to_one", true,
            "use 1 as the alphas_cumprod before the first training step (else alphas_cumprod[0])");

    /** The schedule's keys with the defaults most diffusers classes share; see {@link Keys}. */
    static final Keys KEYS = new Keys(
            ConfigKey.integer("num_train_timesteps", 1000, "number of diffusion steps the model was trained with")
                    .atLeast(2),
            ConfigKey.number("beta_start", 0.0001, "the first beta of the schedule").range(0.0, true, 1.0, false),
            ConfigKey.number("beta_end", 0.02, "the last beta of the schedule").range(0.0, true, 1.0, false),
            ConfigKey.choice("beta_schedule", "linear", "how the betas go from beta_start to beta_end",
                    BETA_SCHEDULES),
            ConfigKey.numbers("trained_betas", "the betas themselves, replacing beta_start, beta_end and "
                    + "beta_schedule").range(0.0, true, 1.0, false),
            null);

    /** {@code rescale_betas_zero_snr}, for the classes that have it. */
    private static final ConfigKey<Boolean> RESCALE_BETAS_ZERO_SNR = ConfigKey.flag("rescale_betas_zero_snr", false,
            "rescale the betas to zero terminal SNR (arXiv 2305.08891); for v-prediction models");

    /**
     * The keys that make the training noise schedule, with one diffusers class's defaults.
     *
     * @param zeroSnr {@code rescale_betas_zero_snr}, or null for a class without it
     */
    record Keys(ConfigKey<Integer> numTrainTimesteps, ConfigKey<Double> betaStart, ConfigKey<Double> betaEnd,
            ConfigKey<String> betaSchedule, ConfigKey<double[]> trainedBetas, ConfigKey<Boolean> zeroSnr) {

        /** @return these keys with another {@code beta_start} default */
        Keys withBetaStart(double value) {
            return new Keys(numTrainTimesteps, betaStart.withDefault(value), betaEnd, betaSchedule, trainedBetas,
                    zeroSnr);
        }

        /** @return these keys with another {@code beta_end} default */
        Keys withBetaEnd(double value) {
            return new Keys(numTrainTimesteps, betaStart, betaEnd.withDefault(value), betaSchedule, trainedBetas,
                    zeroSnr);
        }

        /** @return these keys with another {@code beta_schedule} default */
        Keys withBetaSchedule(String value) {
            return new Keys(numTrainTimesteps, betaStart, betaEnd, betaSchedule.withDefault(value), trainedBetas,
                    zeroSnr);
        }

        /** @return these keys accepting other {@code beta_schedule} values (DDPM also has sigmoid and laplace) */
        Keys withBetaSchedules(String... values) {
            return new Keys(numTrainTimesteps, betaStart, betaEnd, betaSchedule.withChoices(values), trainedBetas,
                    zeroSnr);
        }

        /** @return these keys plus {@code rescale_betas_zero_snr} */
        Keys withZeroSnr() {
            return new Keys(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas,
                    RESCALE_BETAS_ZERO_SNR);
        }

        /** @return the keys in the order {@link #read} reads them */
        List<ConfigKey<?>> list() {
            List<ConfigKey<?>> out = new ArrayList<>(List.of(numTrainTimesteps, betaStart, betaEnd, betaSchedule,
                    trainedBetas));
            if (zeroSnr != null) {
                out.add(zeroSnr);
            }
            return out;
        }
    }

    /**
     * Reads the schedule's keys and builds {@code betas} and {@code alphas_cumprod}.
     *
     * @param r    the config
     * @param keys the keys with the scheduler's defaults
     * @return the schedule
     */
    static NoiseSchedule read(ConfigReader r, Keys keys) {
        int n = r.get(keys.numTrainTimesteps());
        double start = r.get(keys.betaStart());
        double end = r.get(keys.betaEnd());
        String schedule = r.get(keys.betaSchedule());
        double[] trained = r.get(keys.trainedBetas());
        boolean zeroSnr = keys.zeroSnr() != null && r.get(keys.zeroSnr());

        float[] betas;
        if (trained != null) {
            if (trained.length != n) {
                throw r.invalid("trained_betas has " + trained.length + " entries but num_train_timesteps is " + n);
            }
            betas = new float[n];
            for (int i = 0; i < n; i++) {
                betas[i] = (float) trained[i];
            }
        } else {
            betas = switch (schedule) {
                case "linear" -> linspaceFloat32(start, end, n);
                case "scaled_linear" -> square(linspaceFloat32(Math.sqrt(start), Math.sqrt(end), n));
                case "sigmoid" -> sigmoid(start, end, n);
                case "laplace" -> laplace(n);
                default -> squaredCosCapV2(n);
            };
        }
        if (zeroSnr) {
            // with epsilon prediction this is refused later, and only where diffusers itself divides by zero: the
            // sigma-based schedulers clamp the last alphas_cumprod (alphasCumprodForSigmas), the others are checked
            // against the timesteps they step from (requireNoTerminalEpsilonStep)
            betas = rescaleZeroTerminalSnr(betas);
        }
        return new NoiseSchedule(betas, zeroSnr, schedule);
    }

    /**
     * Refuses timesteps that include the terminal one of a zero-terminal-SNR schedule under epsilon prediction, where
     * {@code alphas_cumprod} is exactly 0: {@code x0 = (x - sqrt(1 - a) * eps) / sqrt(a)} divides by zero there, and
     * diffusers' DDIM, DDPM, LCM and TCD produce infinities and NaNs. Other timesteps (a {@code leading} spacing that
     * starts below the last training step) run, as in diffusers.
     *
     * @param className      the diffusers class, for the message
     * @param predictionType the configured prediction type
     * @param alphasCumprod  the scheduler's {@code alphas_cumprod}
     * @param timesteps      the timesteps it is about to step from
     * @throws ConfigurationException naming the timestep, the reason and the fixes
     */
    static void requireNoTerminalEpsilonStep(String className, PredictionType predictionType,
            float[] alphasCumprod, float[] timesteps) {
        if (predictionType != PredictionType.EPSILON) {
            return;
        }
        for (float t : timesteps) {
            int i = Math.round(t);
            if (i >= 0 && i < alphasCumprod.length && alphasCumprod[i] == 0f) {
                throw new ConfigurationException(className + ": rescale_betas_zero_snr=true with prediction_type "
                        + "'epsilon' steps from timestep " + i + ", where alphas_cumprod is exactly 0, so x0 = (x - "
                        + "sqrt(1-alpha_bar)*eps)/sqrt(alpha_bar) divides by zero (diffusers gives infinities and "
                        + "NaNs there too). Zero-terminal-SNR models are trained with v-prediction: set "
                        + "prediction_type to 'v_prediction', use a timestep_spacing that does not start at the last "
                        + "training step ('leading'), or a sigma-based scheduler (Euler, Euler ancestral, DPM-Solver++, "
                        + "UniPC), which clamps that alphas_cumprod to 2^-24 as diffusers does.");
            }
        }
    }

    /** @return the configured {@code beta_schedule} name (DPM-Solver does not round timesteps for the cosine one) */
    String betaSchedule() {
        return betaSchedule;
    }

    /** @return whether the betas were rescaled to zero terminal SNR (the last alphas_cumprod is 0) */
    boolean zeroTerminalSnr() {
        return zeroTerminalSnr;
    }

    /**
     * {@code alphas_cumprod} as the sigma-based schedulers keep it: with zero terminal SNR diffusers sets the last
     * entry to 2^-24 ("close to 0 without being 0, so the first sigma is not inf").
     *
     * @return a copy
     */
    float[] alphasCumprodForSigmas() {
        float[] a = alphasCumprod.clone();
        if (zeroTerminalSnr) {
            a[a.length - 1] = 0x1p-24f;
        }
        return a;
    }

    /** @return the betas; a copy */
    float[] betas() {
        return betas.clone();
    }

    /** @return {@code 1 - betas}; a copy */
    float[] alphas() {
        return alphas.clone();
    }

    /** @return {@code alphas_cumprod}; a copy the caller may modify */
    float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** @return {@code alphas_cumprod[t]} */
    float alphaCumprod(int t) {
        return alphasCumprod[t];
    }

    /** @return {@code betas[t]} */
    float beta(int t) {
        return betas[t];
    }

    /** @return {@code alphas[t]} */
    float alpha(int t) {
        return alphas[t];
    }

    /** @return {@code num_train_timesteps} */
    int length() {
        return betas.length;
    }

    /**
     * DDPM's forward process, diffusers' {@code DDPMScheduler.add_noise}:
     * {@code sqrt(alpha_bar_t) * original + sqrt(1 - alpha_bar_t) * noise} in float32.
     *
     * @param alphasCumprod the table to read {@code alpha_bar_t} from
     * @param t             the integer timestep
     */
    static FloatTensor addNoise(float[] alphasCumprod, FloatTensor original, FloatTensor noise, int t) {
        float a = alphasCumprod[t];
        return noised(original, noise, Float32.sqrt(a), Float32.sqrt(1f - a));
    }

    /** {@link #addNoise(float[], FloatTensor, FloatTensor, int)} written into {@code out}, which it returns. */
    static float[] addNoise(float[] alphasCumprod, FloatTensor original, FloatTensor noise, int t, float[] out) {
        requireSameShape(original, noise);
        float a = alphasCumprod[t];
        return noised(original.array(), noise.array(), Float32.sqrt(a), Float32.sqrt(1f - a), out);
    }

    /**
     * The variance-preserving forward process at one noise level, {@code signal * original + noiseScale * noise} in
     * float32: {@link #addNoise} and the solvers' {@link Sigmas#addNoiseVp}.
     *
     * @return a new tensor
     * @throws IllegalArgumentException when the shapes differ
     */
    static FloatTensor noised(FloatTensor original, FloatTensor noise, float signal, float noiseScale) {
        requireSameShape(original, noise);
        return FloatTensor.of(noised(original.array(), noise.array(), signal, noiseScale), original.shape());
    }

    /**
     * {@link #noised(FloatTensor, FloatTensor, float, float)} on arrays of one length; also the re-noising of LCM
     * and TCD.
     *
     * @return a new array
     */
    static float[] noised(float[] original, float[] noise, float signal, float noiseScale) {
        return noised(original, noise, signal, noiseScale, new float[original.length]);
    }

    /**
     * {@link #noised(float[], float[], float, float)} written into {@code out}, which may be {@code original}
     * itself (each value is read before it is written).
     *
     * @return {@code out}
     */
    static float[] noised(float[] original, float[] noise, float signal, float noiseScale, float[] out) {
        for (int i = 0; i < out.length; i++) {
            out[i] = signal * original[i] + noiseScale * noise[i];
        }
        return out;
    }

    /** @throws IllegalArgumentException when the shapes differ */
    static void requireSameShape(FloatTensor a, FloatTensor b) {
        if (!a.sameShape(b)) {
            throw new IllegalArgumentException("shape mismatch: " + a.shapeString() + " vs " + b.shapeString());
        }
    }

    /**
     * {@code torch.linspace(start, end, steps, dtype=torch.float32)} on the CPU (scalar path): the bounds are rounded
     * to float32, {@code step = (end - start) / (steps - 1)} in float32, the first half is {@code start + step*i} and
     * the second half {@code end - step*(steps-1-i)}.
     */
    static float[] linspaceFloat32(double start, double end, int steps) {
        float s = (float) start;
        float e = (float) end;
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = s;
            return out;
        }
        float step = (e - s) / (float) (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? s + step * (float) i : e - step * (float) (steps - i - 1);
        }
        return out;
    }

    /** {@code torch.cumprod} on the CPU: a double accumulator, each prefix product rounded to float32. */
    static float[] cumprod(float[] x) {
        float[] out = new float[x.length];
        double acc = 1.0;
        for (int i = 0; i < x.length; i++) {
            acc *= x[i];
            out[i] = (float) acc;
        }
        return out;
    }

    /** diffusers' {@code betas_for_alpha_bar} with the cosine transform (GLIDE), in double, then float32. */
    static float[] squaredCosCapV2(int n) {
        return betasForAlphaBar(n, NoiseSchedule::cosineAlphaBar);
    }

    /** GeoDiff's sigmoid schedule: {@code sigmoid(torch.linspace(-6, 6, n)) * (end - start) + start} in float32. */
    static float[] sigmoid(double start, double end, int n) {
        float[] x = linspaceFloat32(-6, 6, n);
        float range = (float) (end - start);
        float[] betas = new float[n];
        for (int i = 0; i < n; i++) {
            float s = 1f / (1f + Float32.exp(-x[i]));
            betas[i] = s * range + (float) start;
        }
        return betas;
    }

    /** diffusers' {@code betas_for_alpha_bar} with the Laplace transform, in double, then float32. */
    static float[] laplace(int n) {
        return betasForAlphaBar(n, NoiseSchedule::laplaceAlphaBar);
    }

    /**
     * diffusers' {@code betas_for_alpha_bar}: {@code beta_i = min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n),
     * 0.999)} in double, then float32.
     */
    private static float[] betasForAlphaBar(int n, DoubleUnaryOperator alphaBar) {
        float[] betas = new float[n];
        for (int i = 0; i < n; i++) {
            double t1 = (double) i / n;
            double t2 = (double) (i + 1) / n;
            betas[i] = (float) Math.min(1 - alphaBar.applyAsDouble(t2) / alphaBar.applyAsDouble(t1), 0.999);
        }
        return betas;
    }

    private static double laplaceAlphaBar(double t) {
        double lmb = -0.5 * Math.copySign(1, 0.5 - t) * Math.log(1 - 2 * Math.abs(0.5 - t) + 1e-6);
        double snr = Math.exp(lmb);
        return Math.sqrt(snr / (1 + snr));
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /**
     * diffusers' {@code rescale_zero_terminal_snr} (arXiv 2305.08891, Algorithm 1) in float32: shifts and scales
     * {@code sqrt(alphas_cumprod)} so the last one is exactly 0 and the first is unchanged.
     */
    static float[] rescaleZeroTerminalSnr(float[] betas) {
        int n = betas.length;
        float[] alphas = new float[n];
        for (int i = 0; i < n; i++) {
            alphas[i] = 1f - betas[i];
        }
        float[] sqrtBar = cumprod(alphas);
        for (int i = 0; i < n; i++) {
            sqrtBar[i] = Float32.sqrt(sqrtBar[i]);
        }
        float first = sqrtBar[0];
        float last = sqrtBar[n - 1];
        float scale = first / (first - last);
        float[] bar = new float[n];
        for (int i = 0; i < n; i++) {
            float v = (sqrtBar[i] - last) * scale;
            bar[i] = v * v;
        }
        float[] out = new float[n];
        out[0] = 1f - bar[0];
        for (int i = 1; i < n; i++) {
            out[i] = 1f - bar[i] / bar[i - 1];
        }
        return out;
    }

    private static float[] square(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * x[i];
        }
        return out;
    }
}
